package credentials_test

import (
	"context"
	"fmt"

	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
)

// ExampleOptions_Resolve resolves credentials from (here, injected)
// environment variables. In a program, leave Env and HomeDir empty to use the
// real environment and home directory, and register the shared flags with
// AddFlags.
func ExampleOptions_Resolve() {
	env := map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     "LTAI5tExampleKeyId",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "example-secret",
	}
	opts := credentials.Options{
		Env:     func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		HomeDir: "/nonexistent",
	}
	ctx := context.Background()
	res, err := opts.Resolve(ctx)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	c, err := res.Get(ctx)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(res.Source)
	fmt.Println(c.AccessKeyID, res.Static)
	// Output:
	// environment ALIBABA_CLOUD_ACCESS_KEY_ID
	// LTAI5tExampleKeyId true
}
