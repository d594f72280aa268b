package render

// CheckedMemo is a Memo that renders every values file it shares again
// and fails if the bytes differ.
func CheckedMemo() *Memo { return &Memo{check: true} }
