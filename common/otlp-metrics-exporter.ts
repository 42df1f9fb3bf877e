import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonMetricsSerializer, MetricsExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/**
 * OTLP/HTTP (JSON) metric exporter, built as the trace exporter of
 * @opentelemetry/exporter-trace-otlp-http is, from the same OpenTelemetry packages it rests on
 * (the HTTP export delegate and the JSON metrics serializer). Cumulative temporality (the SDK's default).
 */
export class OtlpJsonMetricExporter extends OTLPExporterBase<ResourceMetrics> implements PushMetricExporter {
  constructor(url: string) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({ url }, 'METRICS', 'v1/metrics', { 'Content-Type': 'application/json' }),
        JsonMetricsSerializer,
        'otlp_http_metric_exporter',
        MetricsExporterMetricsHelper,
        undefined,
      ),
    );
  }
}
