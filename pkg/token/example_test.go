package token_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

func ExampleSign() {
	tok, exp, err := token.Sign(token.SignInput{
		ClusterID:       "c0123456789abcdef0123456789abcdef",
		AccessKeyID:     "LTAI5tExampleKey",
		AccessKeySecret: "example-secret",
		Now:             time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok[:len(token.Prefix)], exp.Format(time.RFC3339))
	// Output: k8s-ack-v2. 2025-01-01T00:10:00Z
}

func ExampleVerifier() {
	// In a server the endpoint is the region's STS endpoint (or --sts-endpoint).
	v, err := token.NewVerifier(token.VerifierConfig{
		ClusterID:   "c0123456789abcdef0123456789abcdef",
		STSEndpoint: "sts-vpc.cn-hangzhou.aliyuncs.com",
		Timeout:     3 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A token for another cluster is refused locally, before any STS call.
	other, _, _ := token.Sign(token.SignInput{ClusterID: "c9", AccessKeyID: "LTAI5tExampleKey", AccessKeySecret: "s"})
	_, _, err = v.Verify(context.Background(), other)
	var pe *token.ParseError
	fmt.Println(errors.Is(err, token.ErrInvalidToken), errors.As(err, &pe) && pe.Reason != "")
	fmt.Println(err)
	// Output:
	// true true
	// invalid token: token was issued for a different cluster
}
