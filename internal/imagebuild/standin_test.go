package imagebuild

import (
	"sort"
	"strings"
	"testing"
)

func TestReadKernelLibs(t *testing.T) {
	root := "../.."
	for _, tc := range []struct {
		spec string
		want []string
		err  string
	}{
		{"", []string{"libsm90a.so"}, ""},
		{"testdata/fixtures/gpu/so/libsm90.so, testdata/fixtures/gpu/so/libsm90a.so", []string{"libsm90.so", "libsm90a.so"}, ""},
		{"testdata/fixtures/gpu/so", []string{"libmulti.so", "libsm100.so", "libsm80.so", "libsm80_ptx.so", "libsm90.so", "libsm90a.so"}, ""},
		{"testdata/fixtures/gpu/none.so", nil, "kernel-libs: stat"},
		{"testdata/fixtures/isobench", nil, "no .so file"},
	} {
		libs, err := readKernelLibs(tc.spec, root)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		var got []string
		for name := range libs {
			got = append(got, name)
		}
		sort.Strings(got)
		if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%q: got %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
}
