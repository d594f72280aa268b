// Package render turns compiled cluster data into the bytes fleetc writes:
// values files and Argo CD objects, as a sorted list of Files.
package render

// File is one output file: the unit that output writes and diff compares.
type File struct {
	// Path is slash-separated and relative to the output root.
	Path string
	// Data is the complete file content.
	Data []byte
}
