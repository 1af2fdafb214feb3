package clusters_test

import (
	alicred "github.com/aliyun/credentials-go/credentials"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

func newCredential(in emulator.Info) (alicred.Credential, error) {
	cfg := new(alicred.Config).SetType("access_key").SetAccessKeyId(in.AccessKeyID).SetAccessKeySecret(in.AccessKeySecret)
	return alicred.NewCredential(cfg)
}
