package cloud

import (
	"context"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// imsVersion is the API version of RAM's identity management actions (OIDC providers). They are
// signed like the other RAM actions; the pinned RAM SDK (2015-05-01) has no methods for them, so
// they go through its generic CallApi, which is what the generated 2019-08-15 SDK does too.
const imsVersion = "2019-08-15"

// imsEndpoint is where the identity management actions go: Alibaba Cloud serves them at
// ims.aliyuncs.com (ims.vpc-proxy.aliyuncs.com in a VPC), next to RAM's default hosts. An
// overridden RAM endpoint (the emulator, a proxy) is used as given.
func imsEndpoint(ramEndpoint string) string {
	switch ramEndpoint {
	case "ram.aliyuncs.com":
		return "ims.aliyuncs.com"
	case "ram.vpc-proxy.aliyuncs.com":
		return "ims.vpc-proxy.aliyuncs.com"
	}
	return ramEndpoint
}

// OIDCProvider is a RAM OIDC identity provider, such as the ack-rrsa-<clusterId> provider that
// enabling RRSA creates.
type OIDCProvider struct {
	Name      string
	ARN       string
	IssuerURL string
	// ClientIDs are the audiences tokens may carry (RRSA needs sts.aliyuncs.com).
	ClientIDs []string
	// Fingerprints are the SHA-1 fingerprints of the issuer's TLS certificate.
	Fingerprints []string
	Description  string
	CreateDate   string
	UpdateDate   string
}

type getOIDCProviderResponse struct {
	Body *struct {
		OIDCProvider *struct {
			OIDCProviderName *string `json:"OIDCProviderName"`
			Arn              *string `json:"Arn"`
			IssuerUrl        *string `json:"IssuerUrl"`
			ClientIds        *string `json:"ClientIds"`
			Fingerprints     *string `json:"Fingerprints"`
			Description      *string `json:"Description"`
			CreateDate       *string `json:"CreateDate"`
			UpdateDate       *string `json:"UpdateDate"`
		} `json:"OIDCProvider"`
	} `json:"body"`
}

// GetOIDCProvider returns the OIDC provider name; a missing provider is ErrNotFound.
func (c *RAM) GetOIDCProvider(ctx context.Context, name string) (*OIDCProvider, error) {
	var resp getOIDCProviderResponse
	err := c.do(ctx, "GetOIDCProvider", true, func(cl *ram.Client) error {
		cl.Endpoint = tea.String(imsEndpoint(c.b.endpoint))
		body, err := cl.CallApi(&openapi.Params{
			Action: tea.String("GetOIDCProvider"), Version: tea.String(imsVersion), Protocol: tea.String("HTTPS"),
			Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"), Style: tea.String("RPC"),
			ReqBodyType: tea.String("formData"), BodyType: tea.String("json"),
		}, &openapi.OpenApiRequest{Query: map[string]*string{"OIDCProviderName": tea.String(name)}}, &util.RuntimeOptions{})
		if err != nil {
			return err
		}
		return tea.Convert(body, &resp)
	})
	if err != nil {
		return nil, err
	}
	if resp.Body == nil || resp.Body.OIDCProvider == nil {
		return nil, errEmpty("ram", "GetOIDCProvider")
	}
	p := resp.Body.OIDCProvider
	return &OIDCProvider{
		Name: tea.StringValue(p.OIDCProviderName), ARN: tea.StringValue(p.Arn), IssuerURL: tea.StringValue(p.IssuerUrl),
		ClientIDs: splitList(tea.StringValue(p.ClientIds)), Fingerprints: splitList(tea.StringValue(p.Fingerprints)),
		Description: tea.StringValue(p.Description), CreateDate: tea.StringValue(p.CreateDate), UpdateDate: tea.StringValue(p.UpdateDate),
	}, nil
}

// splitList splits the comma-separated lists RAM returns, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
