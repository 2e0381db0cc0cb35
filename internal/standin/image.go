package standin

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Dockerfile builds a stand-in image FROM scratch: the static binary as
// python3 (what run-bench execs), the variant's standin.json, and an empty
// world-writable /tmp, where run-bench asks the tools to write their result
// files, as it would in a real image.
const Dockerfile = `FROM scratch
COPY python3 /usr/bin/python3
COPY standin.json ` + ConfigPath + `
COPY tmp /tmp
ENV PATH=/usr/bin HOME=/root
`

// WriteContext writes a Docker build context (tar) for a stand-in image:
// Dockerfile, the binary at binPath, cfg as standin.json, and one LABEL
// line per label (sorted, so the image id is reproducible).
func WriteContext(w io.Writer, binPath string, cfg Config, labels map[string]string) error {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	df := Dockerfile
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		df += fmt.Sprintf("LABEL %q=%q\n", k, labels[k])
	}
	tw := tar.NewWriter(w)
	files := []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(df)}, {"python3", 0o755, bin}, {"standin.json", 0o644, append(js, '\n')}}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Mode: 0o1777, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	return tw.Close()
}

// String is cfg as one line of JSON, for logs.
func (c Config) String() string {
	b, _ := json.Marshal(c)
	return strings.TrimSpace(string(b))
}
