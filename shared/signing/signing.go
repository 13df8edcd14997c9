// Package signing gives the functions their token signer, with keys kept in
// a Secrets Manager secret (template.yaml's SigningKeys), and does the
// key rotation the README describes. Nothing here reads the secret until a
// token is first signed or checked, so a function's init makes no network
// call; the keys are then cached (token.KeysTTL).
package signing

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"frontlinevoices/shared/token"
)

// Reader is the part of the Secrets Manager client a function uses.
type Reader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Admin is what rotation uses.
type Admin interface {
	Reader
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

var _ Admin = (*secretsmanager.Client)(nil)

// New returns a signer whose keys are the secret secretID (its ARN or
// name), read with awsCfg at first use.
func New(secretID string, awsCfg aws.Config) (token.Signer, error) {
	if secretID == "" {
		return token.Signer{}, errors.New("config: SIGNING_KEYS_SECRET is required but not set (the ARN of the signing keys' secret)")
	}
	return token.NewSigner(Source(sdk(secretsmanager.NewFromConfig(awsCfg).GetSecretValue), secretID)), nil
}

// sdk is the client's GetSecretValue alone (as store and mail do): the
// client itself is never reachable from an interface value, so the linker
// can drop its other operations.
type sdk func(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)

var _ Reader = sdk(nil)

func (f sdk) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(ctx, in, opts...)
}

// Source reads the keys from the secret's current version.
func Source(c Reader, secretID string) token.Source {
	return func(ctx context.Context) (token.Keys, error) {
		return read(ctx, c, secretID)
	}
}

func read(ctx context.Context, c Reader, secretID string) (token.Keys, error) {
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return token.Keys{}, fmt.Errorf("signing: reading the keys: %w", err)
	}
	return token.ParseKeys(aws.ToString(out.SecretString))
}

// Rotate adds a new random key and makes it the one that signs. Every other
// key stays, so the links they signed keep working; running functions pick
// the new key up within token.KeysTTL, and verify it at once when they
// meet it. The new key's id records the day: k20261128 (k20261128-2 for a
// second rotation that day).
func Rotate(ctx context.Context, c Admin, secretID string, now time.Time) (token.Keys, string, error) {
	keys, err := read(ctx, c, secretID)
	if err != nil {
		return token.Keys{}, "", err
	}
	id := "k" + now.UTC().Format("20060102")
	for n := 2; keys.ByID[id] != nil; n++ {
		id = fmt.Sprintf("k%s-%d", now.UTC().Format("20060102"), n)
	}
	var b [48]byte
	if _, err := rand.Read(b[:]); err != nil {
		return token.Keys{}, "", err
	}
	keys.ByID[id] = []byte(base64.RawURLEncoding.EncodeToString(b[:]))
	keys.Current = id
	return keys, id, put(ctx, c, secretID, keys)
}

// Retire removes key id, so the links it signed stop working. The key that
// signs cannot be retired.
func Retire(ctx context.Context, c Admin, secretID, id string) (token.Keys, error) {
	keys, err := read(ctx, c, secretID)
	if err != nil {
		return token.Keys{}, err
	}
	if _, ok := keys.ByID[id]; !ok {
		return token.Keys{}, fmt.Errorf("signing: there is no key %q (the keys are %v)", id, keys.IDs())
	}
	if id == keys.Current {
		return token.Keys{}, fmt.Errorf("signing: %q is the key that signs; rotate first", id)
	}
	delete(keys.ByID, id)
	return keys, put(ctx, c, secretID, keys)
}

// Keys returns the secret's keys (for listing: ids, never the keys).
func Keys(ctx context.Context, c Reader, secretID string) (token.Keys, error) {
	return read(ctx, c, secretID)
}

func put(ctx context.Context, c Admin, secretID string, keys token.Keys) error {
	if _, err := token.ParseKeys(keys.JSON()); err != nil {
		return err
	}
	_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(secretID), SecretString: aws.String(keys.JSON()),
	})
	if err != nil {
		return fmt.Errorf("signing: saving the keys: %w", err)
	}
	return nil
}
