package backend

import "testing"

func TestGPUsNone(t *testing.T) {
	for _, tc := range []struct {
		g    GPUs
		want bool
	}{{GPUs{}, true}, {GPUs{Type: "H100"}, true}, {GPUs{Count: -1}, false}, {GPUs{Count: 2}, false}, {GPUs{Devices: []string{"0"}}, false}} {
		if got := tc.g.None(); got != tc.want {
			t.Errorf("%+v.None() = %v, want %v", tc.g, got, tc.want)
		}
	}
}
