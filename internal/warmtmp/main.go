package main

import (
	_ "github.com/alibabacloud-go/cs-20151215/v4/client"
	_ "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	_ "github.com/alibabacloud-go/ram-20150501/v2/client"
	_ "github.com/alibabacloud-go/sts-20150401/v2/client"
	_ "github.com/aliyun/credentials-go/credentials"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/sync/errgroup"
	_ "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	_ "k8s.io/cli-runtime/pkg/genericclioptions"
	_ "k8s.io/cli-runtime/pkg/printers"
	_ "k8s.io/client-go/informers"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/tools/clientcmd"
	_ "k8s.io/component-base/logs"
	_ "sigs.k8s.io/controller-runtime/pkg/envtest"
	_ "sigs.k8s.io/yaml"
)

func main() {}
