/**
 * The throwaway cluster's PKI, made with openssl in the cluster's temp dir: a CA, the apiserver's serving
 * certificate, an admin client certificate and the service-account signing key; and the admin kubeconfig that helm,
 * the controllers, kwok and the tests' API client all use. For the aggregation layer, as kubeadm sets it up: a
 * front-proxy CA and the client certificate the apiserver presents when it proxies to an aggregated API, and the
 * serving certificates of the two metrics APIs for the names the aggregator verifies (<service>.<namespace>.svc).
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** Absolute paths of the files makeCerts writes. */
export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** Service-account token signer: the controller-manager signs with the key, the apiserver verifies. */
  saKey: string;
  saPub: string;
  frontProxyCaCert: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  /** Serving certificates of the aggregated metrics APIs, by service name. */
  aggregated: Record<AggregatedService, { cert: string; key: string }>;
}

/** The Services (namespace kube-system) the metrics APIs are registered under. */
export const AGGREGATED_SERVICES = ["custom-metrics", "metrics-server"] as const;
export type AggregatedService = (typeof AGGREGATED_SERVICES)[number];

export function makeCerts(dir: string, openssl: string): Pki {
  const ssl = (...args: string[]) =>
    execFileSync(openssl, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const days = ["-days", "2"];
  ssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", ...days, "-subj", "/CN=zephyr-test-ca");
  ssl(
    ...["req", "-x509", ...ec, "-keyout", "front-proxy-ca.key", "-out", "front-proxy-ca.crt"],
    ...[...days, "-subj", "/CN=zephyr-front-proxy-ca"],
  );
  const leaf = (name: string, subj: string, ext: string, ca = "ca") => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj);
    ssl(
      ...["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial"],
      ...[...days, "-extfile", `${name}.ext`, "-out", `${name}.crt`],
    );
  };
  leaf(
    "serving",
    "/CN=kube-apiserver",
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n",
  );
  // system:masters bypasses RBAC: helm and the controllers act as cluster admin, the way kubeadm's admin.conf does.
  leaf("admin", "/O=system:masters/CN=zephyr-admin", "extendedKeyUsage=clientAuth\n");
  leaf("front-proxy-client", "/CN=front-proxy-client", "extendedKeyUsage=clientAuth\n", "front-proxy-ca");
  for (const service of AGGREGATED_SERVICES)
    leaf(
      service,
      `/CN=${service}`,
      `subjectAltName=DNS:${service}.kube-system.svc,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`,
    );
  const sa = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  writeFileSync(join(dir, "sa.key"), sa.privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(join(dir, "sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));
  const at = (f: string) => join(dir, f);
  return {
    caCert: at("ca.crt"),
    caKey: at("ca.key"),
    servingCert: at("serving.crt"),
    servingKey: at("serving.key"),
    adminCert: at("admin.crt"),
    adminKey: at("admin.key"),
    saKey: at("sa.key"),
    saPub: at("sa.pub"),
    frontProxyCaCert: at("front-proxy-ca.crt"),
    frontProxyClientCert: at("front-proxy-client.crt"),
    frontProxyClientKey: at("front-proxy-client.key"),
    aggregated: Object.fromEntries(
      AGGREGATED_SERVICES.map((s) => [s, { cert: at(`${s}.crt`), key: at(`${s}.key`) }]),
    ) as Pki["aggregated"],
  };
}

/** The admin kubeconfig for `server`, written into dir; returns its path. */
export function writeKubeconfig(dir: string, server: string, pki: Pki): string {
  const kubeconfig = join(dir, "admin.kubeconfig");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: test\n  cluster:\n    server: ${server}\n    certificate-authority: ${pki.caCert}`,
      "users:",
      `- name: admin\n  user:\n    client-certificate: ${pki.adminCert}\n    client-key: ${pki.adminKey}`,
      "contexts:\n- name: test\n  context: {cluster: test, user: admin}",
      "current-context: test",
      "",
    ].join("\n"),
  );
  return kubeconfig;
}
