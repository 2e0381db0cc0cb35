package cudaarch

import (
	"reflect"
	"strings"
	"testing"
)

func TestRunsOn(t *testing.T) {
	cases := []struct {
		target string
		cc     int
		want   bool
	}{
		{"sm_90", 90, true},
		{"sm_90a", 90, true},
		{"sm_80", 90, false},   // SASS does not cross majors
		{"sm_80", 86, true},    // but runs on a later minor
		{"sm_86", 80, false},   // not an earlier one
		{"sm_90a", 100, false}, // arch-specific: exactly 9.0
		{"sm_100a", 90, false},
		{"compute_80", 90, true}, // PTX JITs forward
		{"compute_90", 90, true},
		{"compute_100", 90, false},
		{"compute_90a", 90, true},
		{"compute_90a", 100, false},
		{"compute_86a", 90, false}, // 'a' PTX of another major never JITs
		{"sm_100f", 103, true},
		{"sm_100f", 90, false},
	}
	for _, c := range cases {
		tg, err := ParseTarget(c.target)
		if err != nil {
			t.Fatal(err)
		}
		if tg.String() != c.target {
			t.Fatalf("round trip %q -> %q", c.target, tg.String())
		}
		if got := tg.RunsOn(c.cc); got != c.want {
			t.Errorf("%s on %d: %v, want %v", c.target, c.cc, got, c.want)
		}
	}
	for _, bad := range []string{"", "sm_", "sm_9x", "gfx90a", "compute_a", "sm_1"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) accepted", bad)
		}
	}
}

func TestImageTargetsAndLabel(t *testing.T) {
	a := func(sass, ptx []string) Archs { return Archs{SASS: sass, PTX: ptx} }
	cases := []struct {
		name string
		libs []Archs
		want []string
		on90 Support
		on80 Support
	}{
		{"one sm_90a library", []Archs{a([]string{"sm_90a"}, nil)}, []string{"sm_90a"}, Native, None},
		{"sm_90 and sm_90a libraries both run on 9.0", []Archs{a([]string{"sm_90"}, nil), a([]string{"sm_90a"}, nil)}, []string{"sm_90a"}, Native, None},
		{"both carry sm_90 and sm_90a", []Archs{a([]string{"sm_90", "sm_90a"}, nil), a([]string{"sm_90", "sm_90a"}, nil)}, []string{"sm_90", "sm_90a"}, Native, None},
		{"the fixtures libmulti and libsm90a", []Archs{a([]string{"sm_80", "sm_90a"}, []string{"compute_90"}), a([]string{"sm_90a"}, nil)}, []string{"sm_90a"}, Native, None},
		{"sm_80 alone in one library is dropped", []Archs{a([]string{"sm_80", "sm_90a"}, nil), a([]string{"sm_90a"}, nil)}, []string{"sm_90a"}, Native, None},
		{"fat library next to a PTX one", []Archs{a([]string{"sm_80", "sm_90"}, nil), a(nil, []string{"compute_80"})}, []string{"compute_80", "compute_90"}, PTXOnly, PTXOnly},
		{"PTX alone names the verified GPU", []Archs{a(nil, []string{"compute_80"})}, []string{"compute_80", "compute_90"}, PTXOnly, PTXOnly},
		{"nothing in common", []Archs{a([]string{"sm_80"}, nil), a([]string{"sm_100a"}, nil)}, []string{}, None, None},
		{"no libraries", nil, []string{}, None, None},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ImageTargets(c.libs, 90)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ImageTargets = %v, want %v", got, c.want)
			}
			label := strings.Join(got, ",")
			if s := LabelSupport(label, 90); s != c.on90 {
				t.Errorf("LabelSupport(%q, 90) = %v, want %v", label, s, c.on90)
			}
			if s := LabelSupport(label, 80); s != c.on80 {
				t.Errorf("LabelSupport(%q, 80) = %v, want %v", label, s, c.on80)
			}
		})
	}
}
