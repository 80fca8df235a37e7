// The test adapter of sigs.k8s.io/custom-metrics-apiserver (its test-adapter/main.go, built on the exported
// test-adapter/provider package): serves custom.metrics.k8s.io values that are written to it over plain HTTP.
// Two changes: the write endpoint's address is a flag (upstream listens on ":8080", all interfaces), and
// --version prints the module version the pin in .ci/setup.d/50-controlplane.sh checks.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/emicklei/go-restful/v3"
	"k8s.io/component-base/logs"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	"sigs.k8s.io/custom-metrics-apiserver/pkg/apiserver/metrics"
	basecmd "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	fakeprov "sigs.k8s.io/custom-metrics-apiserver/test-adapter/provider"
)

const module = "sigs.k8s.io/custom-metrics-apiserver"

func main() {
	logs.InitLogs()
	defer logs.FlushLogs()

	cmd := &basecmd.AdapterBase{Name: "custom-metrics-test-adapter"}
	writeAddr := cmd.Flags().String("write-address", "127.0.0.1:8080", "address of the plain-HTTP /write-metrics endpoint")
	version := cmd.Flags().Bool("version", false, "print the custom-metrics-apiserver module version and exit")
	logs.AddFlags(cmd.Flags())
	if err := cmd.Flags().Parse(os.Args); err != nil {
		klog.Fatalf("unable to parse flags: %v", err)
	}
	if *version {
		info, _ := debug.ReadBuildInfo()
		for _, dep := range info.Deps {
			if dep.Path == module {
				fmt.Println(module, dep.Version)
			}
		}
		return
	}
	client, err := cmd.DynamicClient()
	if err != nil {
		klog.Fatalf("unable to construct dynamic client: %v", err)
	}
	mapper, err := cmd.RESTMapper()
	if err != nil {
		klog.Fatalf("unable to construct discovery REST mapper: %v", err)
	}
	prov, ws := fakeprov.NewFakeProvider(client, mapper)
	cmd.WithCustomMetrics(prov)
	cmd.WithExternalMetrics(prov)
	if err := metrics.RegisterMetrics(legacyregistry.Register); err != nil {
		klog.Fatalf("unable to register metrics: %v", err)
	}
	container := restful.NewContainer()
	container.Add(ws)
	go func() {
		server := &http.Server{Addr: *writeAddr, Handler: container, ReadHeaderTimeout: 3 * time.Second}
		klog.Fatal(server.ListenAndServe())
	}()
	if err := cmd.Run(context.Background()); err != nil {
		klog.Fatalf("unable to run custom metrics adapter: %v", err)
	}
}
