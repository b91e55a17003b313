// Command node-gate is the node auth gate as a service (installed on every node by its user data,
// started by systemd). Configuration, as lambda/node-gate/index.ts: NODE_ID, AUTHORIZER_FUNCTION,
// GATE_PORT (8080), GATE_HOST (0.0.0.0), UPSTREAM_HTTP (http://127.0.0.1:8545), UPSTREAM_WS
// (ws://127.0.0.1:8546), RPC_CLIENT (besu | goquorum | geth: the client's method list),
// EXTRA_ALLOWED_METHODS (comma list of exact names), HEALTH_MAX_BLOCK_AGE_SECONDS (unset: /health
// checks only that the client answers), BT_TENANT and BT_ENVIRONMENT (metrics). Cache times come
// from the revocation bound (lib/contracts/revocation.ts), not from configuration. The AWS SDK
// reads AWS_REGION, credentials and AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL_CLOUDWATCH.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/blockchain-tenancy/node-gate/internal/contracts"
	"github.com/blockchain-tenancy/node-gate/internal/gate"
)

const envFile = "/etc/blockchain-tenancy/gate.env"

func logJSON(out *os.File, fields map[string]any) {
	b, _ := json.Marshal(fields)
	fmt.Fprintln(out, string(b))
}

func configError(message string) {
	fmt.Fprintf(os.Stderr, "node-gate: %s (see %s)\n", message, envFile)
	os.Exit(2)
}

// schedTraceSetting keeps the Go runtime's monitor thread (sysmon) out of its deep sleep. Without
// it a proxy of short calls wakes sysmon from that sleep on nearly every call (the runtime wakes
// it on a system call after all threads were idle) and sysmon then polls every 20 µs until the
// process is idle again: measured at 11 % of the gate's CPU under load (ADR 10). With a trace
// period set, sysmon never sleeps deeply and backs off to one wake-up every 10 ms instead. The
// period is the longest the runtime takes (24.8 days): the scheduler line it writes to standard
// error then comes at most once a period, and not at all while the host has been up less than one.
const schedTraceSetting = "schedtrace=2147483647"

// withSchedTrace returns the environment with schedTraceSetting added to GODEBUG, or nil when
// GODEBUG already names schedtrace (set by the operator, or by this process before re-executing).
func withSchedTrace(environ []string) []string {
	out := make([]string, 0, len(environ)+1)
	found := false
	for _, kv := range environ {
		if strings.HasPrefix(kv, "GODEBUG=") {
			found = true
			value := strings.TrimPrefix(kv, "GODEBUG=")
			for _, field := range strings.Split(value, ",") {
				if strings.HasPrefix(field, "schedtrace=") {
					return nil
				}
			}
			if value == "" {
				kv = "GODEBUG=" + schedTraceSetting
			} else {
				kv = "GODEBUG=" + value + "," + schedTraceSetting
			}
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, "GODEBUG="+schedTraceSetting)
	}
	return out
}

func main() {
	// The runtime reads schedtrace only at start: re-execute once with it (same process id).
	// Should that fail the gate runs as it is, only with more CPU per call.
	if environ := withSchedTrace(os.Environ()); environ != nil {
		if exe, err := os.Executable(); err == nil {
			_ = syscall.Exec(exe, os.Args, environ)
		}
	}
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	nodeID, function := os.Getenv("NODE_ID"), os.Getenv("AUTHORIZER_FUNCTION")
	if nodeID == "" || function == "" {
		fmt.Fprintf(os.Stderr, "node-gate: NODE_ID and AUTHORIZER_FUNCTION must be set (see %s)\n", envFile)
		os.Exit(2)
	}
	port, err := strconv.Atoi(env("GATE_PORT", strconv.Itoa(contracts.NodeGatePort)))
	if err != nil || port < 0 || port > 65535 {
		configError(fmt.Sprintf("GATE_PORT %q is not a port; give a number from 1 to 65535", os.Getenv("GATE_PORT")))
	}
	host := env("GATE_HOST", "0.0.0.0")
	var extra []string
	for _, m := range strings.Split(os.Getenv("EXTRA_ALLOWED_METHODS"), ",") {
		if m = strings.TrimSpace(m); m != "" {
			extra = append(extra, m)
		}
	}
	var maxAge time.Duration
	if v := os.Getenv("HEALTH_MAX_BLOCK_AGE_SECONDS"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
			maxAge = time.Duration(s * float64(time.Second))
		}
	}
	// One core for the gate unless GOMAXPROCS says otherwise: the node's client needs the others,
	// and a proxy of short calls spends less CPU per call on one scheduler thread (no idle
	// threads spinning for work). The same budget as the bench's nginx (one worker process).
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	// The live heap is small (decision cache, connection buffers) and a proxy allocates per call:
	// collect at 5x the live heap instead of 2x unless GOGC says otherwise (less CPU, a few MB more).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx := context.Background()
	awsConfig, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		configError("AWS configuration: " + err.Error())
	}
	g, err := gate.New(gate.Options{
		NodeID:            nodeID,
		UpstreamHTTP:      env("UPSTREAM_HTTP", "http://127.0.0.1:8545"),
		UpstreamWS:        env("UPSTREAM_WS", "ws://127.0.0.1:8546"),
		Authorize:         gate.LambdaAuthorizer(lambda.NewFromConfig(awsConfig), function),
		Client:            os.Getenv("RPC_CLIENT"),
		ExtraMethods:      extra,
		HealthMaxBlockAge: maxAge,
		Log:               func(f map[string]any) { logJSON(os.Stdout, f) },
	})
	if err != nil {
		configError(err.Error())
	}

	// Metrics into the environment's own namespace (the only one the node role may write to);
	// metrics must never stop the gate, so ids that name no namespace only disable them.
	var publish func(context.Context)
	tenant, environment := os.Getenv("BT_TENANT"), os.Getenv("BT_ENVIRONMENT")
	if tenant != "" && environment != "" {
		id := regexp.MustCompile(contracts.IDPattern)
		if !id.MatchString(tenant) || !id.MatchString(environment) {
			logJSON(os.Stderr, map[string]any{"msg": "gate metrics disabled", "error": fmt.Sprintf("tenant %q or environment %q is not an id; use 2-24 characters of a-z, 0-9 and \"-\"", tenant, environment)})
		} else {
			// The AWS query protocol: CloudWatch speaks it beside Smithy RPC v2 CBOR (the SDK's
			// default), and so do the local stand-ins the tests and `blockchain-tenancy local` use.
			// One call a minute: the encoding's cost does not matter.
			cw := cloudwatch.NewFromConfig(awsConfig, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) })
			publish = metricsPublisher(g, cw, contracts.MetricNamespacePrefix+"/"+tenant+"/"+environment, tenant, environment, nodeID)
			go func() {
				for range time.Tick(contracts.MetricsIntervalSeconds * time.Second) {
					publish(ctx)
				}
			}()
		}
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		logJSON(os.Stderr, map[string]any{"level": "error", "msg": "node gate cannot listen", "error": err.Error()})
		os.Exit(1)
	}
	srv := g.Server()
	go func() { _ = srv.Serve(gate.Listener{Listener: ln}) }()
	logJSON(os.Stdout, map[string]any{"msg": "node gate listening", "node": nodeID})

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	// Stop accepting, finish the requests in flight (briefly), close the WebSockets.
	stopping, stopped := context.WithTimeout(ctx, time.Second)
	_ = srv.ShutdownWithContext(stopping)
	stopped()
	g.Close()
	if publish != nil {
		flush, cancel := context.WithTimeout(ctx, 2*time.Second)
		publish(flush)
		cancel()
	}
	os.Exit(0)
}

// metricsPublisher publishes the gate's latency histogram and cache hits and misses.
func metricsPublisher(g *gate.Gate, cw *cloudwatch.Client, namespace, tenant, environment, node string) func(context.Context) {
	dims := []cwtypes.Dimension{
		{Name: aws.String(contracts.DimensionTenant), Value: aws.String(tenant)},
		{Name: aws.String(contracts.DimensionEnvironment), Value: aws.String(environment)},
		{Name: aws.String(contracts.DimensionNode), Value: aws.String(node)},
	}
	return func(ctx context.Context) {
		d := g.Metrics.Drain(g.Cache.Hits(), g.Cache.Misses())
		at := time.Now()
		data := []cwtypes.MetricDatum{
			{MetricName: aws.String(contracts.MetricGateCacheHits), Dimensions: dims, Value: aws.Float64(float64(d.Hits)), Unit: cwtypes.StandardUnitCount, Timestamp: &at},
			{MetricName: aws.String(contracts.MetricGateCacheMisses), Dimensions: dims, Value: aws.Float64(float64(d.Misses)), Unit: cwtypes.StandardUnitCount, Timestamp: &at},
		}
		if len(d.Values) > 0 {
			data = append(data, cwtypes.MetricDatum{MetricName: aws.String(contracts.MetricGateLatency), Dimensions: dims, Values: d.Values, Counts: d.Counts, Unit: cwtypes.StandardUnitMilliseconds, Timestamp: &at})
		}
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(namespace), MetricData: data}); err != nil {
			logJSON(os.Stderr, map[string]any{"msg": "gate metrics not published", "error": fmt.Sprintf("%T", err)})
		}
	}
}
