package main

import (
	"reflect"
	"testing"
)

func TestWithSchedTrace(t *testing.T) {
	cases := []struct {
		in, want []string
	}{
		{[]string{"A=1"}, []string{"A=1", "GODEBUG=" + schedTraceSetting}},
		{[]string{"GODEBUG=", "B=2"}, []string{"GODEBUG=" + schedTraceSetting, "B=2"}},
		{[]string{"GODEBUG=madvdontneed=1"}, []string{"GODEBUG=madvdontneed=1," + schedTraceSetting}},
		// Already set, by the operator or by the re-executed process itself: nothing to do.
		{[]string{"GODEBUG=schedtrace=1000"}, nil},
		{[]string{"GODEBUG=gctrace=1," + schedTraceSetting}, nil},
	}
	for _, c := range cases {
		if got := withSchedTrace(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("withSchedTrace(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
