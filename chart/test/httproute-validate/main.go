// httproute-validate checks Gateway API objects the way a kube-apiserver with the Gateway API CRDs installed would:
// unknown fields (strict field validation, via the CRD's structural schema pruning), the CRD's OpenAPI schema, and
// its CEL x-kubernetes-validations rules; plus a strict decode into the upstream Go types. kubernetes-validate only
// knows built-in kinds, so this covers the CRD-backed HTTPRoute the chart renders.
//
// Usage: httproute-validate -crd gateway.networking.k8s.io_httproutes.yaml rendered.yaml...
// Exits 1 listing every problem; documents of other kinds are ignored.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

type versionSchema struct {
	internal   *apiextensions.JSONSchemaProps
	structural *structuralschema.Structural
}

func loadCRD(path string) (string, map[string]versionSchema, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]versionSchema{}
	for _, v := range crd.Spec.Versions {
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		internal := &apiextensions.JSONSchemaProps{}
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil); err != nil {
			return "", nil, err
		}
		structural, err := structuralschema.NewStructural(internal)
		if err != nil {
			return "", nil, fmt.Errorf("%s %s: not a structural schema: %w", crd.Spec.Names.Kind, v.Name, err)
		}
		out[crd.Spec.Group+"/"+v.Name] = versionSchema{internal, structural}
	}
	return crd.Spec.Names.Kind, out, nil
}

// decode parses like the apiserver: JSON numbers become int64 where integral (CEL rules compare ints, not floats).
func decode(doc []byte) (map[string]interface{}, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var obj map[string]interface{}
	if err := utiljson.Unmarshal(j, &obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func validateDoc(doc []byte, kind string, schemas map[string]versionSchema) []string {
	obj, err := decode(doc)
	if err != nil {
		return []string{err.Error()}
	}
	if obj == nil || obj["kind"] != kind {
		return nil
	}
	apiVersion, _ := obj["apiVersion"].(string)
	meta, _ := obj["metadata"].(map[string]interface{})
	name := fmt.Sprintf("%s/%v", kind, meta["name"])
	vs, ok := schemas[apiVersion]
	if !ok {
		return []string{fmt.Sprintf("%s: apiVersion %q is not served by this CRD", name, apiVersion)}
	}
	var problems []string
	if apiVersion == gatewayv1.GroupVersion.String() {
		var typed gatewayv1.HTTPRoute
		if err := yaml.UnmarshalStrict(doc, &typed); err != nil {
			problems = append(problems, fmt.Sprintf("%s: strict decode into gateway-api Go types: %v", name, err))
		}
	}
	// Pruning on a copy reports exactly the fields a strict (fieldValidation=Strict) apply would reject.
	copyObj, _ := decode(doc)
	unknown := pruning.PruneWithOptions(copyObj, vs.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, p := range unknown {
		problems = append(problems, fmt.Sprintf("%s: unknown field %q", name, p))
	}
	// The apiserver defaults before it validates; the CEL rules rely on defaulted fields (parentRefs[].group, …).
	structuraldefaulting.Default(obj, vs.structural)
	validator, _, err := apiservervalidation.NewSchemaValidator(vs.internal)
	if err != nil {
		return append(problems, err.Error())
	}
	for _, e := range apiservervalidation.ValidateCustomResource(nil, obj, validator) {
		problems = append(problems, fmt.Sprintf("%s: %v", name, e))
	}
	celValidator := cel.NewValidator(vs.structural, true, celconfig.PerCallLimit)
	if celValidator != nil {
		errs, _ := celValidator.Validate(context.Background(), nil, vs.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("%s: %v", name, e))
		}
	}
	return problems
}

func main() {
	crdPath := flag.String("crd", "", "CustomResourceDefinition YAML to validate against")
	flag.Parse()
	if *crdPath == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: httproute-validate -crd CRD.yaml FILE...")
		os.Exit(2)
	}
	kind, schemas, err := loadCRD(*crdPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var problems []string
	checked := 0
	for _, file := range flag.Args() {
		raw, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		reader := utilyaml.NewYAMLReader(bufioReader(raw))
		for {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			if strings.Contains(string(doc), "kind: "+kind) {
				checked++
			}
			problems = append(problems, validateDoc(doc, kind, schemas)...)
		}
	}
	for _, p := range problems {
		fmt.Println("ERROR", p)
	}
	fmt.Printf("%s objects checked: %d, problems: %d\n", kind, checked, len(problems))
	if len(problems) > 0 {
		os.Exit(1)
	}
}
