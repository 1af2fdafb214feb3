package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func testEntry(cluster string, issued time.Time, life time.Duration, body string) *Entry {
	return &Entry{ClusterID: cluster, Mode: "token", IssuedAt: issued, Expiration: issued.Add(life), Credential: []byte(body)}
}

func TestKeyDistinguishesEveryField(t *testing.T) {
	base := KeyInput{ClusterID: "c1", Mode: "token", APIVersion: "v1", IdentityKey: "id1", Extra: "x"}
	variants := []KeyInput{
		{ClusterID: "c2", Mode: "token", APIVersion: "v1", IdentityKey: "id1", Extra: "x"},
		{ClusterID: "c1", Mode: "certificate", APIVersion: "v1", IdentityKey: "id1", Extra: "x"},
		{ClusterID: "c1", Mode: "token", APIVersion: "v1beta1", IdentityKey: "id1", Extra: "x"},
		{ClusterID: "c1", Mode: "token", APIVersion: "v1", IdentityKey: "id2", Extra: "x"},
		{ClusterID: "c1", Mode: "token", APIVersion: "v1", IdentityKey: "id1", Extra: ""},
		// Field boundaries matter: "c1"+"token" must not equal "c1t"+"oken".
		{ClusterID: "c1t", Mode: "oken", APIVersion: "v1", IdentityKey: "id1", Extra: "x"},
	}
	seen := map[string]bool{base.Key(): true}
	for _, v := range variants {
		k := v.Key()
		if seen[k] {
			t.Fatalf("key collision for %+v", v)
		}
		seen[k] = true
	}
	same := base
	if same.Key() != base.Key() || len(base.Key()) != 40 {
		t.Fatal("key not deterministic or wrong length")
	}
}

func TestPutGetRoundTripAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "kubectl-ack")
	s := Store{Dir: dir}
	e := testEntry("c1", t0, 10*time.Minute, `{"kind":"ExecCredential"}`)
	if err := s.Put("k1", e); err != nil {
		t.Fatal(err)
	}
	got := s.Get("k1")
	if got == nil || string(got.Credential) != string(e.Credential) || !got.Expiration.Equal(e.Expiration) ||
		!got.IssuedAt.Equal(e.IssuedAt) || got.ClusterID != "c1" || got.Mode != "token" {
		t.Fatalf("round trip: %+v", got)
	}
	if s.Get("k2") != nil {
		t.Fatal("hit for another key")
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(dir)
		if fi.Mode().Perm() != 0o700 {
			t.Fatalf("dir mode %v", fi.Mode().Perm())
		}
		fi, _ = os.Stat(filepath.Join(dir, "k1.json"))
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("file mode %v", fi.Mode().Perm())
		}
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	for _, de := range ents {
		if strings.Contains(de.Name(), ".tmp-") {
			t.Fatalf("leftover %s", de.Name())
		}
	}
}

func TestLooseDirectoryIsTightened(t *testing.T) {
	if runtime.GOOS == "windows" {
		return // POSIX modes only
	}
	dir := filepath.Join(t.TempDir(), "c")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := (Store{Dir: dir}).Put("k", testEntry("c1", t0, time.Minute, "{}")); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode().Perm())
	}
}

func TestCorruptAndForeignFilesAreMisses(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	good, err := encodeEntry("k", testEntry("c1", t0, time.Hour, `{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := encodeEntry("other", testEntry("c1", t0, time.Hour, `{"a":1}`))
	tampered := []byte(strings.Replace(string(good), `{"a":1}`, `{"a":2}`, 1))
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("\x00\x01not a cache entry")},
		{"json from another tool", []byte(`{"kind":"ExecCredential","status":{"token":"x"}}`)},
		{"truncated", good[:len(good)/2]},
		{"header only", good[:strings.IndexByte(string(good), '\n')+1]},
		{"body tampered", tampered},
		{"stored under another key", otherKey},
		{"bad number", []byte(strings.Replace(string(good), " c1 ", " c1 x ", 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(s.Dir, "k.json"), tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if e := s.Get("k"); e != nil {
				t.Fatalf("served %+v", e)
			}
			// A refresh replaces the bad file.
			e, refreshed, err := s.GetOrRefresh(context.Background(), "k", func() time.Time { return t0 },
				func(*Entry) time.Duration { return 0 },
				func(context.Context) (*Entry, error) { return testEntry("c1", t0, time.Hour, `{"fresh":true}`), nil },
				func(err error) { t.Errorf("warn: %v", err) })
			if err != nil || !refreshed || string(e.Credential) != `{"fresh":true}` {
				t.Fatalf("refresh: %v %v %+v", err, refreshed, e)
			}
			if got := s.Get("k"); got == nil || string(got.Credential) != `{"fresh":true}` {
				t.Fatal("bad file not replaced")
			}
		})
	}
}

func TestGetOrRefreshHitMissAndMargin(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	floor := 2 * time.Minute
	margin := func(e *Entry) time.Duration { return Margin(e.IssuedAt, e.Expiration, floor) }
	issued := 0
	issue := func(context.Context) (*Entry, error) {
		issued++
		return testEntry("c1", t0, 10*time.Minute, `{"n":`+string(rune('0'+issued))+`}`), nil
	}
	tests := []struct {
		name          string
		now           time.Time
		wantRefreshed bool
		wantIssued    int
	}{
		{"miss", t0, true, 1},
		{"hit right after", t0.Add(time.Minute), false, 1},
		{"hit just outside margin", t0.Add(8*time.Minute - time.Second), false, 1},
		{"refresh inside margin", t0.Add(8*time.Minute + time.Second), true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, refreshed, err := s.GetOrRefresh(context.Background(), "k", func() time.Time { return tt.now }, margin, issue,
				func(err error) { t.Errorf("warn: %v", err) })
			if err != nil || refreshed != tt.wantRefreshed || issued != tt.wantIssued {
				t.Fatalf("refreshed=%v issued=%d err=%v", refreshed, issued, err)
			}
		})
	}
}

func TestMargin(t *testing.T) {
	tests := []struct {
		life, floor, want time.Duration
	}{
		{10 * time.Minute, 2 * time.Minute, 2 * time.Minute},
		{3 * time.Hour, 5 * time.Minute, 36 * time.Minute},
		{15 * time.Minute, 5 * time.Minute, 5 * time.Minute},
		{72 * time.Hour, 5 * time.Minute, 864 * time.Minute},
	}
	for _, tt := range tests {
		if got := Margin(t0, t0.Add(tt.life), tt.floor); got != tt.want {
			t.Errorf("Margin(%v, %v) = %v, want %v", tt.life, tt.floor, got, tt.want)
		}
	}
}

func TestIssueErrorIsReturnedAndNothingStored(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	boom := errors.New("boom")
	_, _, err := s.GetOrRefresh(context.Background(), "k", time.Now, func(*Entry) time.Duration { return 0 },
		func(context.Context) (*Entry, error) { return nil, boom }, func(error) {})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if s.Get("k") != nil {
		t.Fatal("stored after failure")
	}
}

func TestUnwritableCacheStillReturnsCredential(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := Store{Dir: filepath.Join(file, "sub")} // parent is a file: cannot create
	var warnings []error
	e, refreshed, err := s.GetOrRefresh(context.Background(), "k", func() time.Time { return t0 }, func(*Entry) time.Duration { return 0 },
		func(context.Context) (*Entry, error) { return testEntry("c1", t0, time.Hour, "{}"), nil },
		func(err error) { warnings = append(warnings, err) })
	if err != nil || !refreshed || e == nil {
		t.Fatalf("err=%v refreshed=%v", err, refreshed)
	}
	if len(warnings) == 0 {
		t.Fatal("no warning about the cache")
	}
}

// Concurrent callers sharing the directory make one refresh; the others
// wait on the lock and read the stored entry.
func TestConcurrentRefreshIssuesOnce(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	var calls atomic.Int32
	release := make(chan struct{})
	issue := func(context.Context) (*Entry, error) {
		calls.Add(1)
		<-release
		return testEntry("c1", t0, time.Hour, `{"one":1}`), nil
	}
	const n = 10
	var wg sync.WaitGroup
	results := make([]string, n)
	errs := make([]error, n)
	started := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			started <- struct{}{}
			e, _, err := s.GetOrRefresh(context.Background(), "k", func() time.Time { return t0 },
				func(*Entry) time.Duration { return time.Minute }, issue, func(err error) { errs[i] = err })
			if err != nil {
				errs[i] = err
				return
			}
			results[i] = string(e.Credential)
		}(i)
	}
	for i := 0; i < n; i++ {
		<-started
	}
	close(release)
	wg.Wait()
	if c := calls.Load(); c != 1 {
		t.Fatalf("issue ran %d times, want 1", c)
	}
	for i := range results {
		if errs[i] != nil || results[i] != `{"one":1}` {
			t.Fatalf("caller %d: %q %v", i, results[i], errs[i])
		}
	}
}

func TestLockHonoursContext(t *testing.T) {
	d, err := Store{Dir: t.TempDir()}.openDir(false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	unlock, err := d.lock(context.Background(), "k", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.lock(ctx, "k", time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := d.lock(context.Background(), "k", time.Millisecond); !errors.Is(err, errLockTimeout) {
		t.Fatalf("err = %v, want timeout", err)
	}
}

func TestClear(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	for k, c := range map[string]string{"a": "c1", "b": "c1", "c": "c2"} {
		if err := s.Put(k, testEntry(c, t0, time.Hour, "{}")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "junk.json"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := s.Clear("c1")
	if err != nil || n != 2 {
		t.Fatalf("clear c1: %d %v", n, err)
	}
	if s.Get("a") != nil || s.Get("b") != nil || s.Get("c") == nil {
		t.Fatal("wrong entries removed")
	}
	n, err = s.Clear("")
	if err != nil || n != 2 { // c and junk
		t.Fatalf("clear all: %d %v", n, err)
	}
	if n, err := (Store{Dir: filepath.Join(s.Dir, "missing")}).Clear(""); err != nil || n != 0 {
		t.Fatalf("clear missing dir: %d %v", n, err)
	}
}

func TestDefaultDir(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	got, err := DefaultDir(env(map[string]string{EnvCacheDir: "/x/cache"}), "/home/u")
	if err != nil || got != filepath.Join("/x/cache", "kubectl-ack") {
		t.Fatalf("KUBECACHEDIR: %q %v", got, err)
	}
	got, err = DefaultDir(env(nil), "/home/u")
	if err != nil || got != filepath.Join("/home/u", ".kube", "cache", "kubectl-ack") {
		t.Fatalf("default: %q %v", got, err)
	}
}

// BenchmarkHit measures the cache-hit work of a credential request: key,
// read, decode and freshness check.
func BenchmarkHit(b *testing.B) {
	s := Store{Dir: b.TempDir()}
	body := `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false},"status":{"expirationTimestamp":"2026-11-22T10:10:00Z","token":"k8s-ack-v2.` + strings.Repeat("A", 900) + `"}}`
	in := KeyInput{ClusterID: "c0123456789abcdef0123456789abcdef", Mode: "token", APIVersion: "client.authentication.k8s.io/v1", IdentityKey: "sha256:abc"}
	if err := s.Put(in.Key(), testEntry(in.ClusterID, time.Now(), time.Hour, body)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		e, _, err := s.GetOrRefresh(context.Background(), in.Key(), time.Now, func(*Entry) time.Duration { return time.Minute },
			func(context.Context) (*Entry, error) { b.Fatal("miss"); return nil, nil }, func(error) {})
		if err != nil || len(e.Credential) == 0 {
			b.Fatal(err)
		}
	}
}
