package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseClusterLabels(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  map[string]map[string]string
		err   string
	}{
		{flags: nil, want: map[string]map[string]string{}},
		{flags: []string{"a=env=dev,monitoring-basic=enabled", "b=env=prod"}, want: map[string]map[string]string{
			"a": {"env": "dev", "monitoring-basic": "enabled"},
			"b": {"env": "prod"},
		}},
		{flags: []string{"a"}, err: "--labels a: want name=key=value,key=value"},
		{flags: []string{"=env=dev"}, err: "--labels =env=dev: want name=key=value"},
		{flags: []string{"a=env"}, err: `--labels a=env: "env" is not key=value`},
		{flags: []string{"a=env=dev", "a=env=prod"}, err: "--labels a=env=prod: cluster a is given twice"},
	} {
		got, err := parseClusterLabels(tc.flags)
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %s", tc.flags, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.flags, got, err, tc.want)
		}
	}
}
