package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// nameList is a flag that takes names, such as --cluster: repeatable, and
// each value a name or a comma-separated list of names. An empty name
// (`--cluster ""`, `--cluster a,,b`) is a usage error rather than no
// selection at all, which would show or compile every cluster.
type nameList struct {
	names *[]string
	what  string // what a name names, for the message: "cluster"
}

// nameListVar binds a nameList flag to names.
func nameListVar(fs *pflag.FlagSet, names *[]string, flag, what, usage string) {
	fs.Var(nameList{names: names, what: what}, flag, usage)
}

func (l nameList) Set(v string) error {
	var add []string
	for n := range strings.SplitSeq(v, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			if strings.TrimSpace(v) == "" {
				return fmt.Errorf("empty: want one %s name, or several separated by commas", l.what)
			}
			return fmt.Errorf("an empty %s name between commas: want names separated by commas", l.what)
		}
		add = append(add, n)
	}
	*l.names = append(*l.names, add...)
	return nil
}

func (l nameList) String() string {
	if l.names == nil {
		return ""
	}
	return strings.Join(*l.names, ",")
}

// Type is that of pflag's string slices, so that completion treats it as
// one (it completes after a comma).
func (l nameList) Type() string { return "stringSlice" }

func (l nameList) Append(v string) error { return l.Set(v) }

func (l nameList) Replace(vs []string) error {
	*l.names = nil
	for _, v := range vs {
		if err := l.Set(v); err != nil {
			return err
		}
	}
	return nil
}

func (l nameList) GetSlice() []string {
	if l.names == nil {
		return nil
	}
	return *l.names
}
