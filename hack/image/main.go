// Command image assembles the ack-ram-authenticator OCI image without a container engine.
//
// The base is built from local files (a passwd/group with an unprivileged user and the host's
// CA bundle) instead of pulling a distroless image, because CI machines have no registry access.
// The result is a single-platform OCI image layout packed as a tar (an "oci-archive"), which
// `podman load`, `docker load` (Docker 25+), `skopeo copy oci-archive:` and `crane push` accept.
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	binPath    = "/usr/local/bin/ack-ram-authenticator"
	user       = "65532:65532"
	configPath = "/etc/ack-ram-authenticator/config.yaml"
)

// Spec is what an image must look like; check verifies a tarball against it.
type Spec struct {
	Name, Version, Commit string
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: image build|check [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		fs := flag.NewFlagSet("build", flag.ExitOnError)
		bin := fs.String("binary", "", "static linux ack-ram-authenticator binary")
		out := fs.String("out", "", "output image tarball")
		ref := fs.String("name", "kubectl-ack/ack-ram-authenticator:dev", "image reference")
		version := fs.String("version", "dev", "version label")
		commit := fs.String("commit", "unknown", "revision label")
		arch := fs.String("arch", "amd64", "image architecture")
		_ = fs.Parse(os.Args[2:])
		err = build(*bin, *out, *ref, *arch, Spec{Version: *version, Commit: *commit})
	case "check":
		fs := flag.NewFlagSet("check", flag.ExitOnError)
		in := fs.String("in", "", "image tarball to check")
		_ = fs.Parse(os.Args[2:])
		err = check(*in)
	default:
		err = fmt.Errorf("unknown command %q (want build or check)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

type file struct {
	name string
	mode int64
	data []byte
	dir  bool
}

func layer(files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: epoch, Typeflag: tar.TypeReg, Size: int64(len(f.data))}
		if f.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !f.dir {
			if _, err := tw.Write(f.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}

func build(binary, out, ref, arch string, s Spec) error {
	if binary == "" || out == "" {
		return errors.New("build needs -binary and -out")
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("read binary: %w", err)
	}
	if err := isStatic(binary); err != nil {
		return err
	}
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return fmt.Errorf("read host CA bundle for the base layer: %w", err)
	}
	base, err := layer([]file{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, dir: true},
	})
	if err != nil {
		return fmt.Errorf("base layer: %w", err)
	}
	app, err := layer([]file{
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
		{name: binPath[1:], mode: 0o755, data: bin},
	})
	if err != nil {
		return fmt.Errorf("app layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, base, app)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Entrypoint = []string{binPath}
	cfg.Config.Cmd = []string{"server", "--config", configPath}
	cfg.Config.User = user
	cfg.Config.WorkingDir = "/"
	cfg.Config.ExposedPorts = map[string]struct{}{"21362/tcp": {}}
	cfg.Config.Env = []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cfg.Config.Labels = labels(s)
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image name %q: %w", ref, err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := writeOCIArchive(out, tag, img); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	d, _ := img.Digest()
	fmt.Printf("wrote %s (%s, %s)\n", out, tag, d)
	return nil
}

func labels(s Spec) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "ack-ram-authenticator",
		"org.opencontainers.image.description": "Kubernetes token webhook for Alibaba Cloud RAM identities (kubectl-ack)",
		"org.opencontainers.image.source":      "https://github.com/kubectl-ack/kubectl-ack",
		"org.opencontainers.image.licenses":    "MIT",
		"org.opencontainers.image.version":     s.Version,
		"org.opencontainers.image.revision":    s.Commit,
	}
}

// isStatic refuses dynamically linked binaries: the image has no libc.
func isStatic(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return fmt.Errorf("%s is not a linux ELF binary: %w", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; build with CGO_ENABLED=0", p)
		}
	}
	return nil
}

func check(in string) error {
	dir, err := os.MkdirTemp("", "oci-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	img, err := readOCIArchive(in, dir)
	if err != nil {
		return fmt.Errorf("open image %s: %w", in, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	var problems []string
	if cfg.Config.User == "" || cfg.Config.User == "0" || cfg.Config.User == "root" || cfg.Config.User[0] == '0' {
		problems = append(problems, fmt.Sprintf("user %q is root; want %s", cfg.Config.User, user))
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{binPath}) {
		problems = append(problems, fmt.Sprintf("entrypoint %q, want [%s]", cfg.Config.Entrypoint, binPath))
	}
	for _, k := range []string{"org.opencontainers.image.title", "org.opencontainers.image.source", "org.opencontainers.image.version", "org.opencontainers.image.revision", "org.opencontainers.image.licenses"} {
		if cfg.Config.Labels[k] == "" {
			problems = append(problems, "missing label "+k)
		}
	}
	mt, _ := img.MediaType()
	if mt != types.OCIManifestSchema1 {
		problems = append(problems, fmt.Sprintf("manifest media type %s, want OCI", mt))
	}
	mode, ok, err := findFile(img, binPath[1:])
	if err != nil {
		return err
	}
	if !ok {
		problems = append(problems, "binary "+binPath+" missing from the layers")
	} else if mode&0o111 == 0 {
		problems = append(problems, "binary "+binPath+" is not executable")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %v", in, problems)
	}
	fmt.Printf("ok  %s: entrypoint %v, user %s, %d labels\n", in, cfg.Config.Entrypoint, cfg.Config.User, len(cfg.Config.Labels))
	return nil
}

func findFile(img v1.Image, want string) (int64, bool, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("read image filesystem: %w", err)
		}
		if h.Name == want {
			return h.Mode, true, nil
		}
	}
}

// writeOCIArchive writes img as an OCI layout into a temporary directory and tars it to out
// atomically, so a failed build never leaves a partial tarball.
func writeOCIArchive(out string, tag name.Tag, img v1.Image) error {
	dir, err := os.MkdirTemp("", "oci-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag.TagStr(),
		"io.containerd.image.name":          tag.Name(),
	})); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tw := tar.NewWriter(tmp)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		tmp.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// readOCIArchive unpacks an oci-archive into dir and returns its single image, whose
// layers are read lazily from dir.
func readOCIArchive(in, dir string) (v1.Image, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not an OCI archive: %w", err)
		}
		target := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return nil, err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return nil, err
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(target, b, 0o644); err != nil {
				return nil, err
			}
		}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("not an OCI layout: %w", err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("want exactly one image in the archive, found %d", len(m.Manifests))
	}
	return idx.Image(m.Manifests[0].Digest)
}
