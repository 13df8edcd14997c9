// Command keys rotates the signing keys of every token (the stack's
// SigningKeys secret; see the README, Rotating the signing key):
//
//	go run ./infra/keys list   --secret ARN   the key ids, and which one signs
//	go run ./infra/keys rotate --secret ARN   a new key signs from now; the old ones still verify
//	go run ./infra/keys retire --secret ARN --id k1   the links k1 signed stop working
//
// --secret is the stack output SigningKeysSecret (or SIGNING_KEYS_SECRET).
// Against the local stack pass --local http://127.0.0.1:8080 instead. It
// never prints a key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/signing"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "keys:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate" && args[0] != "retire") {
		return errors.New("usage: keys list|rotate|retire [--id KEY] [--secret ARN | --local URL]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	secret := fs.String("secret", os.Getenv("SIGNING_KEYS_SECRET"), "the signing keys' secret (stack output SigningKeysSecret)")
	local := fs.String("local", "", "URL of a running local stack (go run ./infra/local)")
	id := fs.String("id", "", "the key to retire")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *local != "" {
		ep, err := stack.Connect(ctx, *local)
		if err != nil {
			return err
		}
		*secret = ep.SecretARNs["SigningKeys"]
	}
	if *secret == "" {
		return errors.New("the secret is not known: pass --secret (the stack output SigningKeysSecret) or --local")
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	c := secretsmanager.NewFromConfig(awsCfg)
	switch args[0] {
	case "rotate":
		keys, newID, err := signing.Rotate(ctx, c, *secret, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s now signs; every function uses it within 5 minutes. Keys: %s\n", newID, strings.Join(keys.IDs(), " "))
		fmt.Fprintf(out, "Keep the older keys until the links they signed expire (withdrawal links: RetentionDays after the story).\n")
	case "retire":
		if *id == "" {
			return errors.New("retire needs --id KEY")
		}
		keys, err := signing.Retire(ctx, c, *secret, *id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s retired: links it signed no longer work. Keys: %s (%s signs)\n", *id, strings.Join(keys.IDs(), " "), keys.Current)
	default:
		keys, err := signing.Keys(ctx, c, *secret)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "keys: %s\nsigning: %s\n", strings.Join(keys.IDs(), " "), keys.Current)
	}
	return nil
}
