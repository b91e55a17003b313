package gate

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/blockchain-tenancy/node-gate/internal/cache"
	"github.com/blockchain-tenancy/node-gate/internal/contracts"
)

// AuthorizerEvent is the event the gate sends: the shape API Gateway sends, so one authorizer serves both.
func AuthorizerEvent(authorization, nodeID string) []byte {
	b, _ := json.Marshal(map[string]any{
		"type":      "REQUEST",
		"methodArn": contracts.MethodArnPrefix + nodeID,
		"headers":   map[string]string{"authorization": authorization, contracts.NodeHeader: nodeID},
	})
	return b
}

// DecisionFromAnswer turns an authorizer response into a decision; an error when it could not decide.
func DecisionFromAnswer(payload []byte) (cache.Decision, error) {
	var answer struct {
		PolicyDocument *struct {
			Statement []struct {
				Effect string
			}
		} `json:"policyDocument"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(payload, &answer); err != nil {
		return cache.Decision{}, err
	}
	effect := ""
	if answer.PolicyDocument != nil && len(answer.PolicyDocument.Statement) > 0 {
		effect = answer.PolicyDocument.Statement[0].Effect
	}
	str := func(k string) string {
		s, _ := answer.Context[k].(string)
		return s
	}
	if str("reason") == "unavailable" || (effect != "Allow" && effect != "Deny") {
		return cache.Decision{}, errors.New("authorizer could not decide")
	}
	if effect != "Allow" {
		return cache.Decision{Allowed: false}, nil
	}
	d := cache.Decision{Allowed: true, CredentialID: str("credentialId")}
	if e := str("expiresAt"); e != "" {
		d.HasExpiry = true
		if t, err := time.Parse(time.RFC3339Nano, e); err == nil {
			d.ExpiresAt = t
		}
	}
	return d, nil
}

// LambdaAuthorizer calls the environment's authorizer function (lambda:InvokeFunction on that one function).
func LambdaAuthorizer(client *lambda.Client, functionName string) cache.AuthorizeFunc {
	return func(ctx context.Context, authorization, nodeID string) (cache.Decision, error) {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: &functionName, Payload: AuthorizerEvent(authorization, nodeID)})
		if err != nil {
			return cache.Decision{}, err
		}
		if out.FunctionError != nil || len(out.Payload) == 0 {
			return cache.Decision{}, errors.New("authorizer failed")
		}
		return DecisionFromAnswer(out.Payload)
	}
}
