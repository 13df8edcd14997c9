//go:build secretsmanager

package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func init() {
	clients = append(clients, func(cfg aws.Config) any { return secretsmanager.NewFromConfig(cfg) })
}
