package prompt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestConfirm(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"y\n", true}, {"YES\n", true}, {" yes \n", true}, {"y", true},
		{"n\n", false}, {"\n", false}, {"", false}, {"yep\n", false},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		got, err := Confirm(context.Background(), strings.NewReader(tt.in), &out, "Go on?")
		if err != nil || got != tt.want {
			t.Errorf("Confirm(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if !strings.HasPrefix(out.String(), "Go on? [y/N]: ") {
			t.Errorf("prompt = %q", out.String())
		}
	}
}

func TestConfirmCancelled(t *testing.T) {
	r, w := io.Pipe() // never written: the answer never comes
	defer w.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("interrupted")
	done := make(chan error, 1)
	go func() {
		_, err := Confirm(ctx, r, io.Discard, "Go on?")
		done <- err
	}()
	cancel(cause)
	select {
	case err := <-done:
		if !errors.Is(err, cause) {
			t.Fatalf("err = %v, want the cancellation cause", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Confirm did not return after cancellation")
	}
}
