import { execFile, execFileSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { adapterRules, expandMetricsQuery } from "../../test/adapter-rules.js";
import { JOB_SELECTOR, JOB_VALUE, loadGroups, RULE_FILES, type RuleGroup } from "../../test/alert-rules.js";
import { CRD_DIR, type CrdValidator, crdValidator, requireCrdDir } from "../../test/crd.js";
import { helm, type K8sObject, type Rendered, render } from "../../test/helm.js";
import { CHART, REPO_ROOT } from "../../test/paths.js";
import { selectors } from "../../test/promql.js";
import { scratchDir } from "../../test/scratch.js";
import { requirePromtool } from "../../test/tools.js";
import { ciValues } from "./support.js";

const promtool = requirePromtool();
const SM_CRD = "monitoring.coreos.com_servicemonitors.yaml";
const PR_CRD = "monitoring.coreos.com_prometheusrules.yaml";
const crds = requireCrdDir([SM_CRD, PR_CRD]);

const DASHBOARDS = join(REPO_ROOT, "dashboards/generated");
const dashboardFiles = readdirSync(DASHBOARDS)
  .filter((f) => f.endsWith(".json"))
  .sort();
const values = parse(readFileSync(join(CHART, "values.yaml"), "utf8"));
const monitoringOn = ciValues["monitoring-on"] as string;
const OTHER_JOB = "other";

const tmp = () => scratchDir("chart-monitoring");

/** Every string in an object tree, with its path. */
function strings(o: unknown, path = ""): Array<[string, string]> {
  if (typeof o === "string") return [[path, o]];
  if (o && typeof o === "object") return Object.entries(o).flatMap(([k, v]) => strings(v, `${path}/${k}`));
  return [];
}

const jobMatchers = (groups: RuleGroup[]) =>
  groups
    .flatMap((g) => g.rules)
    .flatMap((r) => selectors(r.expr))
    .flatMap((s) => s.matchers.filter((m) => m.label === "job"));

describe("chart/files holds exact copies of the rule files and the generated dashboards", () => {
  const pairs = [
    {
      src: join(REPO_ROOT, "alerts"),
      copy: join(CHART, "files/alerts"),
      match: (f: string) => f.endsWith(".rules.yml"),
    },
    { src: DASHBOARDS, copy: join(CHART, "files/dashboards"), match: (f: string) => f.endsWith(".json") },
  ];

  it.each(pairs)(
    "$copy equals $src byte for byte, with no file missing or left over",
    ({ src, copy, match }) => {
      const sources = readdirSync(src).filter(match).sort();
      expect(sources.length).toBeGreaterThan(0);
      expect(readdirSync(copy).sort()).toEqual(sources);
      for (const f of sources)
        expect(
          readFileSync(join(copy, f)).equals(readFileSync(join(src, f))),
          `${f}: run npm run chart:sync`,
        ).toBe(true);
    },
  );

  it("`npm run chart:sync` is the one command; its --check notices drift and a sync repairs it", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
    expect(pkg.scripts["chart:sync"]).toBe("node chart/test/sync-files.mjs");
    const script = join(CHART, "test/sync-files.mjs");
    const sync = (root: string, ...args: string[]) =>
      execFileSync(process.execPath, [script, "--root", root, ...args], { stdio: "pipe", encoding: "utf8" });
    const root = tmp();
    for (const d of ["alerts", "dashboards/generated", "chart/files"])
      cpSync(join(REPO_ROOT, d), join(root, d), { recursive: true, filter: (s) => !s.includes("/test") });
    expect(() => sync(root, "--check")).not.toThrow();

    writeFileSync(
      join(root, "alerts/zephyr.rules.yml"),
      `${readFileSync(join(root, "alerts/zephyr.rules.yml"), "utf8")}\n`,
    );
    writeFileSync(join(root, "chart/files/dashboards/removed.json"), "{}\n");
    let err = "";
    try {
      sync(root, "--check");
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err).toContain("chart/files/alerts/zephyr.rules.yml differs");
    expect(err).toContain("chart/files/dashboards/removed.json has no source");

    sync(root);
    expect(() => sync(root, "--check")).not.toThrow();
  });
});

describe.skipIf(!helm)("monitoring: ServiceMonitor, PrometheusRule and dashboard ConfigMaps", () => {
  // Rendered once each: helm template dominates the run time.
  let on: Rendered;
  let other: Rendered;
  let off: Rendered;
  let custom: Rendered;
  beforeAll(async () => {
    [on, other, off, custom] = await Promise.all([
      render([monitoringOn]),
      render([monitoringOn], [`monitoring.job=${OTHER_JOB}`]),
      render([ciValues.minimal as string]),
      render(
        [ciValues.minimal as string],
        [
          "monitoring.enabled=true",
          "monitoring.serviceMonitor.enabled=false",
          "monitoring.prometheusRule.enabled=false",
          "monitoring.dashboards.label=custom_dashboards",
          "monitoring.dashboards.labelValue=yes",
          "monitoring.dashboards.folder=",
        ],
      ),
    ]);
  });

  const dashboardMaps = (r: Rendered) =>
    r.all("ConfigMap").filter((c) => c.metadata.name.startsWith("zephyr-dashboard-"));

  it("is off by default, and each part can be turned off on its own", () => {
    expect(values.monitoring.enabled).toBe(false);
    expect(off.all("ServiceMonitor")).toEqual([]);
    expect(off.all("PrometheusRule")).toEqual([]);
    expect(dashboardMaps(off)).toEqual([]);
    expect(custom.all("ServiceMonitor")).toEqual([]);
    expect(custom.all("PrometheusRule")).toEqual([]);
    expect(dashboardMaps(custom).length).toBe(dashboardFiles.length);
  });

  it("ServiceMonitor scrapes /metrics on the Service's metrics port, only the server Service, in the release namespace", () => {
    const sm = on.get("ServiceMonitor", "zephyr");
    const svc = on.get("Service", "zephyr");
    const selector = sm.spec.selector.matchLabels as Record<string, string>;
    expect(selector["app.kubernetes.io/component"]).toBe("server");
    const selected = on
      .all("Service")
      .filter((s) => Object.entries(selector).every(([k, v]) => s.metadata.labels?.[k] === v));
    expect(selected.map((s) => s.metadata.name)).toEqual(["zephyr"]);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: ["zephyr"] });
    expect(sm.spec.endpoints).toHaveLength(1);
    const ep = sm.spec.endpoints[0];
    expect(ep.path).toBe("/metrics");
    const port = svc.spec.ports.find((p: { name: string }) => p.name === ep.port);
    expect(port?.name).toBe("metrics");
    // ci/monitoring-on runs /metrics on its own container port; the Service port must lead there.
    const container = on.get("Deployment", "zephyr").spec.template.spec.containers[0];
    expect(container.ports.find((p: { name: string }) => p.name === port.targetPort)?.containerPort).toBe(
      9464,
    );
    expect(ep.interval).toBe("15s");
    expect(ep.scrapeTimeout).toBe("10s");
    expect(sm.metadata.labels.release).toBe("kube-prometheus-stack");
  });

  it("ServiceMonitor sets the job label to monitoring.job, unconditionally", () => {
    for (const [r, job] of [
      [on, JOB_VALUE],
      [other, OTHER_JOB],
    ] as const) {
      const relabel = r.get("ServiceMonitor").spec.endpoints[0].relabelings as Array<Record<string, unknown>>;
      const jobRules = relabel.filter((x) => x.targetLabel === "job");
      // No sourceLabels: the value is "" and the default regex (.*) matches, so every target gets the job.
      expect(jobRules).toEqual([{ action: "replace", targetLabel: "job", replacement: job }]);
    }
  });

  it("PrometheusRule spec.groups are the rule files' groups, {{ $labels }} templates untouched", () => {
    const source = loadGroups();
    const rendered = on.get("PrometheusRule", "zephyr");
    expect(rendered.spec.groups).toEqual(source);
    const templates = (groups: unknown) =>
      strings(groups)
        .filter(([, s]) => s.includes("{{ $labels.") || s.includes("{{ $value"))
        .sort(([a], [b]) => a.localeCompare(b));
    expect(templates(rendered.spec.groups).length).toBeGreaterThan(10);
    expect(templates(rendered.spec.groups)).toEqual(templates(source));
    expect(rendered.metadata.labels.release).toBe("kube-prometheus-stack");
  });

  it(`with monitoring.job=${OTHER_JOB}: the groups with job="${OTHER_JOB}" in place of every job="zephyr", none left`, () => {
    const rendered = other.get("PrometheusRule", "zephyr").spec.groups as RuleGroup[];
    const expected = RULE_FILES.flatMap(
      (f) =>
        (
          parse(readFileSync(f, "utf8").replaceAll(JOB_SELECTOR, `job="${OTHER_JOB}"`)) as {
            groups: RuleGroup[];
          }
        ).groups,
    );
    expect(rendered).toEqual(expected);
    expect(strings(rendered).filter(([, s]) => s.includes(JOB_SELECTOR))).toEqual([]);
    const matchers = jobMatchers(rendered);
    expect(matchers.length).toBe(jobMatchers(loadGroups()).length);
    expect(matchers.length).toBeGreaterThan(10);
    expect(new Set(matchers.map((m) => `${m.op}${m.value}`))).toEqual(new Set([`=${OTHER_JOB}`]));
  });

  it.skipIf(!promtool)("promtool check rules accepts the rendered groups", async () => {
    const dir = tmp();
    const check = async (name: string, r: Rendered) => {
      const groups = r.get("PrometheusRule").spec.groups as RuleGroup[];
      const file = join(dir, `${name}.rules.yml`);
      writeFileSync(file, stringify({ groups }));
      const count = groups.flatMap((g) => g.rules).length;
      const { stdout, stderr } = await promisify(execFile)(promtool as string, ["check", "rules", file]);
      expect(stdout + stderr).toContain(`SUCCESS: ${count} rules found`);
    };
    await Promise.all([check("default", on), check("other", other)]);
  });

  it("one job setting: ServiceMonitor relabeling, rule selectors and the prometheus-adapter rule agree", () => {
    expect(values.monitoring.job).toBe(JOB_VALUE);
    const relabel = on
      .get("ServiceMonitor")
      .spec.endpoints[0].relabelings.find((x: { targetLabel: string }) => x.targetLabel === "job");
    expect(relabel.replacement).toBe(values.monitoring.job);
    const ruleJobs = jobMatchers(on.get("PrometheusRule").spec.groups);
    expect(new Set(ruleJobs.map((m) => `${m.op}${m.value}`))).toEqual(new Set([`=${values.monitoring.job}`]));
    const adapter = adapterRules();
    expect(adapter.length).toBeGreaterThan(0);
    for (const rule of adapter) {
      const queries = [rule.seriesQuery, expandMetricsQuery(rule, "zephyr", ["zephyr-a", "zephyr-b"])];
      const adapterJobs = queries.flatMap((q) =>
        selectors(q).flatMap((s) => s.matchers.filter((m) => m.label === "job")),
      );
      expect(adapterJobs.length).toBe(queries.length);
      for (const m of adapterJobs)
        expect(m, rule.seriesQuery).toEqual({ label: "job", op: "=", value: relabel.replacement });
    }
  });

  it("one ConfigMap per generated dashboard: exactly its JSON, the sidecar's label and the folder annotation", () => {
    const maps = dashboardMaps(on);
    expect(maps.flatMap((c) => Object.keys(c.data)).sort()).toEqual(dashboardFiles);
    for (const c of maps) {
      const [file, content] = Object.entries(c.data as Record<string, string>)[0] as [string, string];
      expect(Object.keys(c.data)).toEqual([file]);
      expect(c.metadata.name).toBe(`zephyr-dashboard-${file.replace(/\.json$/, "").replace(/^zephyr-/, "")}`);
      expect(
        content === readFileSync(join(DASHBOARDS, file), "utf8"),
        `${file} differs from the generated JSON`,
      ).toBe(true);
      expect(c.metadata.labels.grafana_dashboard).toBe("1");
      expect(c.metadata.annotations).toEqual({ grafana_folder: "Zephyr" });
      // The dashboards discover the job, so a renamed job needs no dashboard change.
      expect(content).not.toContain(`job=\\"${JOB_VALUE}\\"`);
    }
    for (const c of dashboardMaps(custom)) {
      expect(c.metadata.labels.custom_dashboards).toBe("yes");
      expect(c.metadata.labels.grafana_dashboard).toBeUndefined();
      expect(c.metadata.annotations).toBeUndefined();
    }
  });

  describe.skipIf(!crds)(`CRD schemas (${CRD_DIR})`, () => {
    let smv: CrdValidator;
    let prv: CrdValidator;
    beforeAll(() => {
      smv = crdValidator(join(CRD_DIR, SM_CRD));
      prv = crdValidator(join(CRD_DIR, PR_CRD));
    });

    it("the rendered ServiceMonitor and PrometheusRule validate strictly, for both job values", () => {
      for (const r of [on, other]) {
        expect(smv.validate(r.get("ServiceMonitor"))).toEqual([]);
        expect(prv.validate(r.get("PrometheusRule"))).toEqual([]);
      }
    });

    // Each mutation is one mistake a template edit could make; the validator must name it.
    it("the validation can fail: unknown fields, wrong types, duplicate group names, bad metadata", () => {
      const mutate = (o: K8sObject, f: (c: any) => void) => {
        const c = structuredClone(o);
        f(c);
        return c;
      };
      const smObj = on.get("ServiceMonitor");
      const prObj = on.get("PrometheusRule");
      const cases: Array<[string, string[], RegExp]> = [
        [
          "typo in an endpoint",
          smv.validate(mutate(smObj, (c) => (c.spec.endpoints[0].intervall = "30s"))),
          /\/spec\/endpoints\/0: must NOT have additional properties \(intervall\)/,
        ],
        [
          "relabeling field at the wrong level",
          smv.validate(mutate(smObj, (c) => (c.spec.relabelings = c.spec.endpoints[0].relabelings))),
          /\/spec: must NOT have additional properties \(relabelings\)/,
        ],
        [
          "interval not a duration",
          smv.validate(mutate(smObj, (c) => (c.spec.endpoints[0].interval = "30 seconds"))),
          /\/spec\/endpoints\/0\/interval: must match pattern/,
        ],
        [
          "unknown relabel action",
          smv.validate(mutate(smObj, (c) => (c.spec.endpoints[0].relabelings[0].action = "set"))),
          /relabelings\/0\/action: must be equal to one of the allowed values/,
        ],
        [
          "label value not a string",
          smv.validate(mutate(smObj, (c) => (c.metadata.labels.release = 1))),
          /\/metadata\/labels\/release: must be string/,
        ],
        [
          "typo in a rule",
          prv.validate(
            mutate(prObj, (c) => (c.spec.groups[0].rules[0].exp = c.spec.groups[0].rules[0].expr)),
          ),
          /\/spec\/groups\/0\/rules\/0: must NOT have additional properties \(exp\)/,
        ],
        [
          "duplicate group name",
          prv.validate(mutate(prObj, (c) => (c.spec.groups[1].name = c.spec.groups[0].name))),
          /\/spec\/groups: duplicate entries/,
        ],
        [
          "for not a duration",
          prv.validate(mutate(prObj, (c) => (c.spec.groups[1].rules[0].for = 60))),
          /\/for: must be string/,
        ],
      ];
      for (const [name, errors, expected] of cases) expect(errors.join("\n"), name).toMatch(expected);
    });
  });
});
