package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/image"
	"github.com/commitbench/commitbench/internal/testenv"
)

// buildImage builds a one-file image with the classic builder, as the
// imagebuild "api" builder does, and returns its ID.
func buildImage(t *testing.T, c *client.Client, dockerfile, content string, tags ...string) string {
	t.Helper()
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	for name, body := range map[string]string{"Dockerfile": dockerfile, "f": content} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	res, err := c.ImageBuild(context.Background(), &ctxTar, client.ImageBuildOptions{Tags: tags, Remove: true, ForceRemove: true, Version: build.BuilderV1})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	id := ""
	dec := json.NewDecoder(res.Body)
	for {
		var m struct {
			Error string `json:"error"`
			Aux   struct {
				ID string `json:"ID"`
			} `json:"aux"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if m.Error != "" {
			t.Fatalf("build: %s", m.Error)
		}
		if m.Aux.ID != "" {
			id = m.Aux.ID
		}
	}
	if id == "" {
		t.Fatal("build reported no image ID")
	}
	return id
}

func exists(t *testing.T, c *client.Client, id string) bool {
	_, err := c.ImageInspect(context.Background(), id)
	return err == nil
}

// Parallel build jobs on one daemon (act) each build the shared base; the
// last takes the tag and the others are left dangling. RemoveTagged takes
// them too, but not a dangling copy that another image still builds on,
// and nothing of another base.
func TestRemoveTaggedTakesDisplacedBases(t *testing.T) {
	testenv.RequireDocker(t)
	ctx := context.Background()
	c, err := Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id := randID()
	prefix := "127.0.0.1:1/commitbench-remove-test-" + id + "/"
	base := prefix + "bench:base-1"
	key := "key-" + id
	df := "FROM scratch\nCOPY f /f\nLABEL " + image.LabelBaseKey + "=" + key + "\n"

	displaced := buildImage(t, c, df, "first job's base", base)
	used := buildImage(t, c, df, "second job's base", base)
	final := buildImage(t, c, df, "third job's base", base)
	variant := buildImage(t, c, "FROM "+base+"\nCOPY f /variant\n", "variant", prefix+"bench:human")
	// Someone else's image built on the second copy, and an unrelated base.
	other := buildImage(t, c, "FROM "+used+"\nCOPY f /other\n", "other", "commitbench-remove-test-other:"+id)
	unrelated := buildImage(t, c, strings.ReplaceAll(df, key, "another-"+key), "unrelated")
	t.Cleanup(func() {
		for _, im := range []string{other, used, unrelated} {
			c.ImageRemove(context.Background(), im, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
	})

	if err := RemoveTagged(ctx, prefix); err != nil {
		t.Fatal(err)
	}
	for name, im := range map[string]string{"displaced base": displaced, "tagged base": final, "variant": variant} {
		if exists(t, c, im) {
			t.Errorf("%s %.19s is still there", name, im)
		}
	}
	for name, im := range map[string]string{"base another image uses": used, "the image using it": other, "another base": unrelated} {
		if !exists(t, c, im) {
			t.Errorf("%s %.19s was removed", name, im)
		}
	}
}
