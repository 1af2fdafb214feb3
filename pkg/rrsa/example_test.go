package rrsa_test

import (
	"fmt"

	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// Merging a service account's trust statement into a role's trust policy keeps the statements
// already there and is a no-op the second time.
func ExampleMerge() {
	current, err := rrsa.ParsePolicy(`{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}]}`)
	if err != nil {
		panic(err)
	}
	stmt, err := rrsa.BuildStatement("acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0123",
		"https://oidc.example.com/c0123", "default", "app")
	if err != nil {
		panic(err)
	}
	merged, changed, err := rrsa.Merge(current, stmt)
	if err != nil {
		panic(err)
	}
	doc, _ := merged.Pretty()
	fmt.Println(changed)
	fmt.Println(doc)
	_, changedAgain, _ := rrsa.Merge(merged, stmt)
	fmt.Println(changedAgain)
	// Output:
	// true
	// {
	//   "Version": "1",
	//   "Statement": [
	//     {
	//       "Action": "sts:AssumeRole",
	//       "Effect": "Allow",
	//       "Principal": {
	//         "Service": [
	//           "ecs.aliyuncs.com"
	//         ]
	//       }
	//     },
	//     {
	//       "Action": "sts:AssumeRole",
	//       "Condition": {
	//         "StringEquals": {
	//           "oidc:aud": "sts.aliyuncs.com",
	//           "oidc:iss": "https://oidc.example.com/c0123",
	//           "oidc:sub": "system:serviceaccount:default:app"
	//         }
	//       },
	//       "Effect": "Allow",
	//       "Principal": {
	//         "Federated": [
	//           "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0123"
	//         ]
	//       }
	//     }
	//   ]
	// }
	// false
}
