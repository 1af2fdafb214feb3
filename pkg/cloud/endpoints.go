package cloud

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// DefaultRegionID is the region used when neither --region-id nor ALIBABA_CLOUD_REGION_ID is set.
// cn-hangzhou is the region the Alibaba Cloud SDKs and the aliyun CLI documentation use as their
// example default, and it is where STS/RAM answer for every account, so a global call such as
// GetCallerIdentity works without any configuration.
const DefaultRegionID = "cn-hangzhou"

// Environment variables that configure Endpoints. Flags win over the environment.
const (
	EnvRegionID    = "ALIBABA_CLOUD_REGION_ID"
	EnvSTSEndpoint = "ALIBABA_CLOUD_STS_ENDPOINT"
	EnvRAMEndpoint = "ALIBABA_CLOUD_RAM_ENDPOINT"
	EnvCSEndpoint  = "ALIBABA_CLOUD_CS_ENDPOINT"
	EnvVPCEndpoint = "ALIBABA_CLOUD_VPC_ENDPOINT"
)

// Endpoints selects the region and the host[:port] of each service. An empty service endpoint is
// derived from RegionID (public endpoints, or VPC endpoints when VPC is true). Endpoints never
// carry a scheme: the clients always speak HTTPS.
type Endpoints struct {
	// RegionID is the region of regional services (STS, CS); empty means DefaultRegionID.
	RegionID string
	// STS, RAM and CS override the derived endpoint of that service (host[:port]).
	STS, RAM, CS string
	// VPC selects the VPC (internal) endpoints when deriving endpoints from the region.
	VPC bool
}

// AddFlags registers --region-id, --sts-endpoint, --ram-endpoint, --cs-endpoint and --vpc-endpoint.
// Empty fields are first filled from the environment (ALIBABA_CLOUD_REGION_ID,
// ALIBABA_CLOUD_STS_ENDPOINT, ALIBABA_CLOUD_RAM_ENDPOINT, ALIBABA_CLOUD_CS_ENDPOINT,
// ALIBABA_CLOUD_VPC_ENDPOINT=true), so a flag given on the command line overrides the environment.
func (e *Endpoints) AddFlags(fs *pflag.FlagSet) {
	e.ApplyEnv(os.LookupEnv)
	fs.StringVar(&e.RegionID, "region-id", e.RegionID,
		"Alibaba Cloud region ID (env "+EnvRegionID+"; default "+DefaultRegionID+")")
	fs.StringVar(&e.STS, "sts-endpoint", e.STS,
		"STS endpoint host[:port], HTTPS (env "+EnvSTSEndpoint+"; default derived from the region)")
	fs.StringVar(&e.RAM, "ram-endpoint", e.RAM,
		"RAM endpoint host[:port], HTTPS (env "+EnvRAMEndpoint+"; default ram.aliyuncs.com)")
	fs.StringVar(&e.CS, "cs-endpoint", e.CS,
		"Container Service (CS) endpoint host[:port], HTTPS (env "+EnvCSEndpoint+"; default derived from the region)")
	fs.BoolVar(&e.VPC, "vpc-endpoint", e.VPC,
		"use VPC (internal) endpoints derived from the region (env "+EnvVPCEndpoint+"=true)")
}

// ApplyEnv fills the empty fields of e from the environment as seen by lookup (os.LookupEnv in
// production). Fields already set are kept, so explicit values win.
func (e *Endpoints) ApplyEnv(lookup func(string) (string, bool)) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	if e.RegionID == "" {
		e.RegionID = get(EnvRegionID)
	}
	if e.STS == "" {
		e.STS = get(EnvSTSEndpoint)
	}
	if e.RAM == "" {
		e.RAM = get(EnvRAMEndpoint)
	}
	if e.CS == "" {
		e.CS = get(EnvCSEndpoint)
	}
	if !e.VPC {
		if b, err := strconv.ParseBool(get(EnvVPCEndpoint)); err == nil {
			e.VPC = b
		}
	}
}

// Region returns RegionID, or DefaultRegionID when it is empty.
func (e Endpoints) Region() string {
	if r := strings.TrimSpace(e.RegionID); r != "" {
		return r
	}
	return DefaultRegionID
}

// STSEndpoint returns the STS host[:port]: the override, else sts.<region>.aliyuncs.com or
// sts-vpc.<region>.aliyuncs.com.
func (e Endpoints) STSEndpoint() string {
	if e.STS != "" {
		return strings.TrimSpace(e.STS)
	}
	if e.VPC {
		return "sts-vpc." + e.Region() + ".aliyuncs.com"
	}
	return "sts." + e.Region() + ".aliyuncs.com"
}

// RAMEndpoint returns the RAM host[:port]: the override, else the global ram.aliyuncs.com or
// ram.vpc-proxy.aliyuncs.com (RAM is not regional).
func (e Endpoints) RAMEndpoint() string {
	if e.RAM != "" {
		return strings.TrimSpace(e.RAM)
	}
	if e.VPC {
		return "ram.vpc-proxy.aliyuncs.com"
	}
	return "ram.aliyuncs.com"
}

// CSEndpoint returns the Container Service host[:port]: the override, else cs.<region>.aliyuncs.com
// or cs-anony-vpc.<region>.aliyuncs.com.
func (e Endpoints) CSEndpoint() string {
	if e.CS != "" {
		return strings.TrimSpace(e.CS)
	}
	if e.VPC {
		return "cs-anony-vpc." + e.Region() + ".aliyuncs.com"
	}
	return "cs." + e.Region() + ".aliyuncs.com"
}

var regionRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate checks the region and every endpoint; the error names the offending flag and how to fix it.
func (e Endpoints) Validate() error {
	if !regionRE.MatchString(e.Region()) {
		return fmt.Errorf("invalid region ID %q (--region-id / %s): expected lowercase letters, digits and dashes such as cn-hangzhou", e.RegionID, EnvRegionID)
	}
	var errs []error
	for _, c := range []struct{ flag, env, value string }{
		{"--sts-endpoint", EnvSTSEndpoint, e.STSEndpoint()},
		{"--ram-endpoint", EnvRAMEndpoint, e.RAMEndpoint()},
		{"--cs-endpoint", EnvCSEndpoint, e.CSEndpoint()},
	} {
		if err := ValidateEndpoint(c.value); err != nil {
			errs = append(errs, fmt.Errorf("%s / %s: %w", c.flag, c.env, err))
		}
	}
	return errors.Join(errs...)
}

var hostLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)

// ValidateEndpoint checks that s is host[:port] with no scheme, path, query or credentials.
func ValidateEndpoint(s string) error {
	if s == "" {
		return errors.New("endpoint is empty")
	}
	if strings.Contains(s, "://") {
		return fmt.Errorf("endpoint %q must be host[:port] without a scheme (HTTPS is always used): use %q", s, s[strings.Index(s, "://")+3:])
	}
	if strings.ContainsAny(s, "/?#@ \t\r\n") {
		return fmt.Errorf("endpoint %q must be host[:port] only, without path, query, user info or spaces", s)
	}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") == 1 || strings.HasPrefix(s, "[") {
		return fmt.Errorf("endpoint %q is not a valid host[:port]: %w", s, err)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("endpoint %q has an invalid port %q (want 1-65535)", s, port)
		}
	}
	if host == "" {
		return fmt.Errorf("endpoint %q has an empty host", s)
	}
	if strings.Contains(host, ":") && port == "" {
		return fmt.Errorf("endpoint %q: IPv6 addresses need brackets and a port, e.g. [::1]:443", s)
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if strings.Contains(host, ":") {
		return fmt.Errorf("endpoint %q: IPv6 addresses need brackets and a port, e.g. [::1]:443", s)
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if len(label) > 63 || !hostLabelRE.MatchString(label) {
			return fmt.Errorf("endpoint %q has an invalid host name", s)
		}
	}
	return nil
}
