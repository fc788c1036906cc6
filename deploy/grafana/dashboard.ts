/**
 * The x402-gateway Grafana dashboard, as code (issue 14 §1), built with Grafana's own builders
 * (@grafana/grafana-foundation-sdk, pinned exactly: it is pre-1.0). `npm run dashboard` writes
 * deploy/grafana/x402-gateway.json; test/unit/deploy/grafana-dashboard.test.ts fails when the
 * committed file differs from what this builds, and when a query names a metric the gateway does
 * not export.
 *
 * Money: `x402_gateway_revenue_atomic_total` (atomic units) is the source of truth; token-unit
 * panels divide it by `x402_gateway_asset_scale` (10^decimals per network and asset). A float64
 * holds every integer up to 2^53, so those panels are exact up to 2^53 atomic units (USDC: about
 * 9 billion dollars per series); the ledger is the exact book.
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

export const DASHBOARD_UID = 'x402-gateway';

const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** Label matchers of the template variables, per metric's labels. */
const I = 'instance=~"$instance"';
const IR = `${I}, route=~"$route"`;
const INR = `${IR}, network=~"$network"`;
const RATE = '[$__rate_interval]';

/** Atomic revenue → token units: joined on (network, asset), carrying the asset's symbol. */
function tokenUnits(atomic: string): string {
  return (
    `${atomic}\n/ on (network, asset) group_left (symbol)\n` +
    `max by (network, asset, symbol) (x402_gateway_asset_scale{${I}, network=~"$network"})`
  );
}

function query(expr: string, legend: string, refId = 'A'): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(expr)
    .legendFormat(legend)
    .refId(refId);
}

function withQueries<P extends { withTarget(t: cog.Builder<cog.Dataquery>): P }>(
  panel: P,
  queries: readonly (readonly [expr: string, legend: string])[],
): P {
  queries.forEach(([expr, legend], i) =>
    panel.withTarget(query(expr, legend, String.fromCharCode(65 + i))),
  );
  return panel;
}

function series(
  title: string,
  description: string,
  unit: string,
  queries: readonly (readonly [string, string])[],
  width = 12,
): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .min(0)
    .span(width)
    .height(8)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    );
  return withQueries(panel, queries);
}

function single(
  title: string,
  description: string,
  unit: string,
  queries: readonly (readonly [string, string])[],
  width = 6,
): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(width)
    .height(5)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(common.BigValueGraphMode.Area);
  return withQueries(panel, queries);
}

function variable(name: string, label: string, definition: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query({ query: definition, refId: `${name}-variable` })
    .definition(definition)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

const REVENUE = `x402_gateway_revenue_atomic_total{${INR}}`;
const PAYMENTS = `x402_gateway_payments_total{${I}}`;
/** Outcomes of a paying request that was served: settled, credited, or a settled payment redeemed. */
const SERVED = 'paid|credited|redeemed';

export function buildDashboard(): dashboard.Dashboard {
  return new dashboard.DashboardBuilder('x402 gateway')
    .uid(DASHBOARD_UID)
    .description(
      'x402 pay-per-call gateway: revenue, the payment funnel, settlement, the ledger, facilitator, upstream and process. ' +
        'Token-unit panels divide x402_gateway_revenue_atomic_total by x402_gateway_asset_scale and are exact up to 2^53 atomic units; the ledger is the exact book.',
    )
    .tags(['x402', 'x402-gateway', 'generated'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(
      new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    )
    .withVariable(
      variable('instance', 'Instance', 'label_values(x402_gateway_build_info, instance)'),
    )
    .withVariable(
      variable('route', 'Route', `label_values(x402_gateway_requests_total{${I}}, route)`),
    )
    .withVariable(
      variable('network', 'Network', `label_values(x402_gateway_asset_scale{${I}}, network)`),
    )

    .withRow(new dashboard.RowBuilder('Revenue'))
    .withPanel(
      single(
        'Revenue total (token units)',
        'Sum of the revenue counters since each instance started, in token units per symbol (USDC: dollars). Exact up to 2^53 atomic units.',
        'none',
        [[tokenUnits(`sum by (network, asset) (${REVENUE})`), '{{symbol}} on {{network}}']],
        8,
      ).decimals(6),
    )
    .withPanel(
      single(
        'Revenue in range (token units)',
        'increase() over the dashboard range: Prometheus extrapolates to the range edges, so this is an estimate; the total and the ledger are exact.',
        'none',
        [
          [
            tokenUnits(`sum by (network, asset) (increase(${REVENUE}[$__range]))`),
            '{{symbol}} on {{network}}',
          ],
        ],
        8,
      ).decimals(6),
    )
    .withPanel(
      single(
        'Paid requests per second',
        'Requests served against a payment (settled, credited or redeemed).',
        'reqps',
        [[`sum(rate(x402_gateway_requests_total{${IR}, outcome=~"${SERVED}"}${RATE}))`, 'paid']],
        8,
      ),
    )
    .withPanel(
      series(
        'Revenue (token units) by route, network and payTo',
        'Cumulative revenue counters divided by the asset scale: exact to the atomic unit up to 2^53 atomic units.',
        'none',
        [
          [
            tokenUnits(`sum by (route, network, asset, pay_to) (${REVENUE})`),
            '{{route}} · {{symbol}} on {{network}} → {{pay_to}}',
          ],
        ],
      ).decimals(6),
    )
    .withPanel(
      series(
        'Revenue rate (token units per second)',
        'rate() of the revenue counters in token units, by route and network.',
        'none',
        [
          [
            tokenUnits(`sum by (route, network, asset) (rate(${REVENUE}${RATE}))`),
            '{{route}} · {{symbol}} on {{network}}',
          ],
        ],
      ),
    )
    .withPanel(
      series(
        'Paid requests per second by route',
        'Served against a payment, by outcome.',
        'reqps',
        [
          [
            `sum by (route, outcome) (rate(x402_gateway_requests_total{${IR}, outcome=~"${SERVED}"}${RATE}))`,
            '{{route}} {{outcome}}',
          ],
        ],
        24,
      ),
    )

    .withRow(new dashboard.RowBuilder('Payment funnel'))
    .withPanel(
      new bargauge.PanelBuilder()
        .title('Funnel over the range: 402 issued → presented → verified → settled → served')
        .description(
          '402 issued: challenges (no payment). Presented: requests carrying a payment. Verified: payments that passed verification (facilitator or cache). Settled: settlements that succeeded. Served: paid, credited or redeemed.',
        )
        .datasource(DATASOURCE)
        .unit('short')
        .min(0)
        .span(12)
        .height(8)
        .orientation(common.VizOrientation.Horizontal)
        .displayMode(common.BarGaugeDisplayMode.Basic)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
        .withTarget(
          query(
            `sum(increase(x402_gateway_requests_total{${IR}, outcome="challenge"}[$__range]))`,
            '1. 402 issued',
            'A',
          ).instant(),
        )
        .withTarget(
          query(`sum(increase(${PAYMENTS}[$__range]))`, '2. payment presented', 'B').instant(),
        )
        .withTarget(
          query(
            `sum(increase(x402_gateway_payments_verified_total{${I}}[$__range]))`,
            '3. verified',
            'C',
          ).instant(),
        )
        .withTarget(
          query(
            `sum(increase(x402_gateway_settlements_total{${I}, result="success"}[$__range]))`,
            '4. settled',
            'D',
          ).instant(),
        )
        .withTarget(
          query(
            `sum(increase(x402_gateway_payments_total{${I}, outcome=~"${SERVED}"}[$__range]))`,
            '5. served',
            'E',
          ).instant(),
        ),
    )
    .withPanel(
      series(
        'Rejections by outcome and reason',
        'Payments not served, by outcome and reason (reasons outside the known set are "other").',
        'reqps',
        [
          [
            `sum by (outcome, reason) (rate(x402_gateway_payments_total{${I}, outcome!~"${SERVED}"}${RATE}))`,
            '{{outcome}}: {{reason}}',
          ],
        ],
      ),
    )
    .withPanel(
      series('Requests by outcome', 'Every request, by outcome.', 'reqps', [
        [`sum by (outcome) (rate(x402_gateway_requests_total{${IR}}${RATE}))`, '{{outcome}}'],
      ]),
    )
    .withPanel(
      series(
        'Replay refusals',
        'Payments refused as already used (402 payment_already_used).',
        'reqps',
        [
          [
            `sum by (route) (rate(x402_gateway_requests_total{${IR}, outcome="replay"}${RATE}))`,
            '{{route}}',
          ],
        ],
      ),
    )

    .withRow(new dashboard.RowBuilder('Settlement and ledger'))
    .withPanel(
      series(
        'Settlement outcomes',
        'Settlement attempts by result: success, declined, pending (not known yet), failed.',
        'ops',
        [[`sum by (result) (rate(x402_gateway_settlements_total{${I}}${RATE}))`, '{{result}}']],
      ),
    )
    .withPanel(
      series(
        'Ledger unresolved payments',
        'Records whose money may have moved and is not yet known to have, by state.',
        'short',
        [[`sum by (state) (x402_gateway_ledger_unresolved{${I}})`, '{{state}}']],
      ),
    )
    .withPanel(
      single(
        'Oldest unresolved payment',
        'Age of the oldest unresolved ledger record (0 when none).',
        's',
        [[`max(x402_gateway_ledger_oldest_unresolved_seconds{${I}})`, 'oldest']],
      ),
    )
    .withPanel(
      series(
        'Reconciliation',
        'Ledger records visited by reconciliation, by outcome.',
        'ops',
        [
          [
            `sum by (outcome) (rate(x402_gateway_ledger_reconciled_total{${I}}${RATE}))`,
            '{{outcome}}',
          ],
        ],
        9,
      ),
    )
    .withPanel(
      series(
        'Credits',
        'Credits of settled, undelivered payments: granted, consumed, refused.',
        'ops',
        [[`sum by (outcome) (rate(x402_gateway_credits_total{${I}}${RATE}))`, '{{outcome}}']],
        9,
      ),
    )

    .withRow(new dashboard.RowBuilder('Facilitator'))
    .withPanel(
      series(
        'Facilitator latency (p50, p95, p99) by operation',
        'From x402_gateway_facilitator_duration_seconds.',
        's',
        [0.5, 0.95, 0.99].map(
          (q) =>
            [
              `histogram_quantile(${q}, sum by (op, le) (rate(x402_gateway_facilitator_duration_seconds_bucket{${I}}${RATE})))`,
              `{{op}} p${Math.round(q * 100)}`,
            ] as const,
        ),
      ),
    )
    .withPanel(
      series(
        'Facilitator errors',
        'Facilitator calls that failed, by operation and kind; facilitator_up is 0 when the last call got no answer.',
        'ops',
        [
          [
            `sum by (op, result) (rate(x402_gateway_facilitator_requests_total{${I}, result!="ok"}${RATE}))`,
            '{{op}} {{result}}',
          ],
          [`min(x402_gateway_facilitator_up{${I}})`, 'facilitator up'],
        ],
      ),
    )
    .withPanel(
      series(
        'Facilitator circuits and failovers',
        'Each facilitator of the failover list (`facilitators:`): its circuit (0 closed, 1 half-open, 2 open: skipped), and the calls that went past a facilitator to the next, by operation and cause.',
        'short',
        [
          [
            `max by (facilitator) (x402_gateway_facilitator_breaker_state{${I}})`,
            'circuit {{facilitator}}',
          ],
          [
            `sum by (op, cause) (rate(x402_gateway_facilitator_failovers_total{${I}}${RATE}))`,
            'failover {{op}} {{cause}}',
          ],
        ],
      ),
    )
    .withPanel(
      single(
        'Verify cache hit ratio',
        'Lookups answered by the verify cache (hit or negative_hit) over all lookups.',
        'percentunit',
        [
          [
            `sum(rate(x402_gateway_verify_cache_total{${I}, result=~"hit|negative_hit"}${RATE}))\n/ sum(rate(x402_gateway_verify_cache_total{${I}}${RATE}))`,
            'hit ratio',
          ],
        ],
        12,
      ),
    )
    .withPanel(
      series(
        'Local signature checks',
        'refused: answered without a facilitator call; other outcomes went on to the facilitator.',
        'ops',
        [
          [
            `sum by (outcome) (rate(x402_gateway_signature_checks_total{${I}}${RATE}))`,
            '{{outcome}}',
          ],
        ],
      ),
    )

    .withRow(new dashboard.RowBuilder('Upstream'))
    .withPanel(
      series(
        'Upstream latency (p50, p95, p99) by route',
        'Time to the upstream response headers.',
        's',
        [0.5, 0.95, 0.99].map(
          (q) =>
            [
              `histogram_quantile(${q}, sum by (route, le) (rate(x402_gateway_upstream_duration_seconds_bucket{${IR}}${RATE})))`,
              `{{route}} p${Math.round(q * 100)}`,
            ] as const,
        ),
      ),
    )
    .withPanel(
      series(
        'Upstream responses by status class',
        'Upstream responses by status class; upstream failures (no response) are the upstream_error outcome.',
        'reqps',
        [
          [
            `sum by (class) (rate(x402_gateway_upstream_responses_total{${IR}}${RATE}))`,
            '{{class}}',
          ],
          [
            `sum(rate(x402_gateway_requests_total{${IR}, outcome="upstream_error"}${RATE}))`,
            'no response (upstream_error)',
          ],
        ],
      ),
    )
    .withPanel(
      series(
        'Upstream health (1 up, 0 down)',
        'Each upstream: while it is down (0) its priced routes answer 503 upstream_down instead of 402. The lowest value of any instance.',
        'short',
        [[`min by (upstream) (x402_gateway_upstream_up{${I}})`, '{{upstream}}']],
      ),
    )
    .withPanel(
      series(
        'Upstream down: state changes and refused requests',
        'Upstream state changes (down, up) and the priced requests answered 503 upstream_down instead of 402.',
        'ops',
        [
          [
            `sum by (upstream, state) (rate(x402_gateway_upstream_state_changes_total{${I}}${RATE}))`,
            '{{upstream}} {{state}}',
          ],
          [
            `sum(rate(x402_gateway_requests_total{${IR}, outcome="upstream_down"}${RATE}))`,
            'refused: upstream_down',
          ],
        ],
      ),
    )

    .withRow(new dashboard.RowBuilder('Process'))
    .withPanel(
      series(
        'Requests in flight',
        'Requests being handled.',
        'short',
        [[`sum by (instance) (x402_gateway_in_flight{${I}})`, '{{instance}}']],
        6,
      ),
    )
    .withPanel(
      series(
        'CPU',
        'Process CPU time per second (1 = one core).',
        'percentunit',
        [
          [
            `sum by (instance) (rate(x402_gateway_process_cpu_seconds_total{${I}}${RATE}))`,
            '{{instance}}',
          ],
        ],
        6,
      ),
    )
    .withPanel(
      series(
        'Memory',
        'Resident set size and V8 heap used.',
        'bytes',
        [
          [`x402_gateway_process_resident_memory_bytes{${I}}`, '{{instance}} rss'],
          [`x402_gateway_nodejs_heap_size_used_bytes{${I}}`, '{{instance}} heap used'],
        ],
        6,
      ),
    )
    .withPanel(
      series(
        'Event-loop lag',
        'Event-loop lag percentiles from the Node.js collector.',
        's',
        [
          [`x402_gateway_nodejs_eventloop_lag_p50_seconds{${I}}`, '{{instance}} p50'],
          [`x402_gateway_nodejs_eventloop_lag_p99_seconds{${I}}`, '{{instance}} p99'],
        ],
        6,
      ),
    )
    .withPanel(
      series(
        'Shared store errors',
        'Failures of the shared replay store (store.redis) by kind: paid requests get 503 while they last. Zero without a shared store.',
        'short',
        [[`sum by (kind) (increase(x402_gateway_store_errors_total{${I}}${RATE}))`, '{{kind}}']],
        6,
      ),
    )
    .withPanel(
      series(
        'Workers',
        'Cluster workers serving (server.workers; a single process counts as one) and workers restarted after exiting unexpectedly.',
        'short',
        [
          [
            `max by (instance) (x402_gateway_workers_up{${I}}) or max by (instance) (x402_gateway_build_info{${I}})`,
            '{{instance}} serving',
          ],
          [
            `sum by (instance) (increase(x402_gateway_worker_restarts_total{${I}}[$__range])) or (0 * max by (instance) (x402_gateway_build_info{${I}}))`,
            '{{instance}} restarts',
          ],
        ],
        6,
      ),
    )
    .withPanel(
      series(
        'Config reloads',
        'Config reloads by result (SIGHUP, --watch), and restart-only keys the file changes that wait for a restart.',
        'short',
        [
          [
            `sum by (result) (increase(x402_gateway_config_reload_total{${I}}[$__range]))`,
            '{{result}}',
          ],
          [
            `max by (instance) (x402_gateway_config_restart_pending_keys{${I}})`,
            '{{instance}} restart pending',
          ],
        ],
        6,
      ),
    )
    .withPanel(
      series(
        'Rate-limited (429) by limit',
        'Requests refused with 429 by each rate limit, per second: challenges (402 challenges per client address), client_failures (failed payments per client address), payer_failures (failures a payer key caused). Sustained: alert X402GatewayRateLimited.',
        'reqps',
        [[`sum by (limit) (rate(x402_gateway_rate_limited_total{${I}}${RATE}))`, '{{limit}}']],
        6,
      ),
    )
    .withPanel(
      series(
        'Rate limits: tracked addresses and fleet syncs',
        'Addresses each rate limit remembers (bounded by rateLimits.maxTrackedAddresses), and pushes to the shared store that failed per second (each instance limits on its own counts meanwhile).',
        'short',
        [
          [`sum by (limit) (x402_gateway_rate_limit_tracked{${I}})`, '{{limit}} tracked'],
          [
            `sum(rate(x402_gateway_rate_limit_syncs_total{${I},result="failed"}${RATE}))`,
            'sync failures/s',
          ],
        ],
        6,
      ),
    )
    .build();
}

/** The committed file's text: two-space JSON and a final newline. */
export function dashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}
