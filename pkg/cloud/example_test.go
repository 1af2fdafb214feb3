package cloud_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aliyun/credentials-go/credentials"
	"github.com/spf13/pflag"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// ExampleNewClients builds the three clients from a static access key. Endpoints come from the
// region unless overridden per service (here CS points at a local emulator); nothing is sent
// until a method is called.
func ExampleNewClients() {
	cred, err := credentials.NewCredential(new(credentials.Config).
		SetType("access_key").
		SetAccessKeyId("LTAI5tExampleKeyId").
		SetAccessKeySecret("example-secret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ep := cloud.Endpoints{RegionID: "cn-beijing", CS: "127.0.0.1:8443"}
	clients, err := cloud.NewClients(cred, ep)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Optional: bound every call and tune the retries of reads.
	clients.SetCallOptions(cloud.CallOptions{Timeout: 10 * time.Second, Retry: cloud.RetryPolicy{MaxAttempts: 3}})

	fmt.Println("sts:", clients.STS.Endpoint())
	fmt.Println("ram:", clients.RAM.Endpoint())
	fmt.Println("cs: ", clients.CS.Endpoint())
	// Output:
	// sts: sts.cn-beijing.aliyuncs.com
	// ram: ram.aliyuncs.com
	// cs:  127.0.0.1:8443
}

// ExampleEndpoints_AddFlags shows the endpoint flags; a flag wins over its environment variable.
func ExampleEndpoints_AddFlags() {
	var ep cloud.Endpoints
	fs := pflag.NewFlagSet("example", pflag.ContinueOnError)
	ep.AddFlags(fs)
	_ = fs.Parse([]string{"--region-id=ap-southeast-1", "--vpc-endpoint"})
	fmt.Println(ep.STSEndpoint(), ep.RAMEndpoint(), ep.CSEndpoint())

	bad := cloud.Endpoints{STS: "https://sts.aliyuncs.com"}
	fmt.Println(bad.Validate() != nil)
	// Output:
	// sts-vpc.ap-southeast-1.aliyuncs.com ram.vpc-proxy.aliyuncs.com cs-anony-vpc.ap-southeast-1.aliyuncs.com
	// true
}

// ExampleAPIError shows how callers branch on error classes instead of strings.
func ExampleAPIError() {
	handle := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, cloud.ErrNotFound):
			return "create it"
		case errors.Is(err, cloud.ErrAuth):
			return "fix credentials"
		case errors.Is(err, context.DeadlineExceeded):
			return "timed out"
		default:
			return "fail"
		}
	}
	err := &cloud.APIError{Service: "ram", Action: "GetRole", Code: "EntityNotExist.Role", HTTPStatus: 404, RequestID: "4C3A", Kind: cloud.ErrNotFound}
	fmt.Println(handle(err))
	fmt.Println(err)
	// Output:
	// create it
	// ram GetRole failed: not found (code EntityNotExist.Role, HTTP 404, request id 4C3A)
}
