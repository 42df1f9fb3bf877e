import { z } from 'zod';

/**
 * Award & communications (DAG node 7): one purchase order per awarded supplier (lines grouped
 * by supplier id), an award letter to each awarded supplier and a regret letter to each
 * unsuccessful one. Letters never name another supplier or quote another supplier's prices.
 */
export const AwardedLine = z.object({
  lineId: z.string().min(1),
  description: z.string().min(1),
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().positive(),
  supplierId: z.string().min(1),
  supplierName: z.string().min(1),
});
export type AwardedLine = z.infer<typeof AwardedLine>;

export const AwardInput = z.object({
  negotiationId: z.string().min(1),
  tenantId: z.string().min(1),
  buyerName: z.string().min(1),
  currency: z.string().length(3).default('USD'),
  awardedLines: z.array(AwardedLine).min(1),
  unsuccessfulSuppliers: z.array(z.object({ supplierId: z.string().min(1), supplierName: z.string().min(1) })).default([]),
});
export type AwardInput = z.input<typeof AwardInput>;

export interface PurchaseOrder {
  poNumber: string;
  supplierId: string;
  supplierName: string;
  lines: Array<{ lineId: string; description: string; quantity: number; unitPriceCents: number; amountCents: number }>;
  totalCents: number;
}

export interface SupplierLetter {
  supplierId: string;
  kind: 'award' | 'regret';
  subject: string;
  body: string;
}

export interface AwardResult {
  negotiationId: string;
  purchaseOrders: PurchaseOrder[];
  communications: SupplierLetter[];
}

export function formatMoney(cents: number, currency: string): string {
  return `${currency} ${(cents / 100).toFixed(2)}`;
}

export function issueAwards(raw: AwardInput): AwardResult {
  const input = AwardInput.parse(raw);
  const bySupplier = new Map<string, AwardedLine[]>();
  for (const line of input.awardedLines) bySupplier.set(line.supplierId, [...(bySupplier.get(line.supplierId) ?? []), line]);
  const suppliers = [...bySupplier.keys()].sort();
  const purchaseOrders: PurchaseOrder[] = suppliers.map((supplierId, i) => {
    const lines = bySupplier.get(supplierId)!.map((l) => ({
      lineId: l.lineId,
      description: l.description,
      quantity: l.quantity,
      unitPriceCents: l.unitPriceCents,
      amountCents: l.quantity * l.unitPriceCents,
    }));
    return {
      poNumber: `PO-${input.negotiationId}-${String(i + 1).padStart(2, '0')}`,
      supplierId,
      supplierName: bySupplier.get(supplierId)![0]!.supplierName,
      lines,
      totalCents: lines.reduce((sum, l) => sum + l.amountCents, 0),
    };
  });
  const money = (c: number) => formatMoney(c, input.currency);
  const awards: SupplierLetter[] = purchaseOrders.map((po) => ({
    supplierId: po.supplierId,
    kind: 'award',
    subject: `Award of negotiation ${input.negotiationId}: purchase order ${po.poNumber}`,
    body: [
      `Dear ${po.supplierName},`,
      ``,
      `We are pleased to inform you that ${input.buyerName} has awarded you the following lines of negotiation ${input.negotiationId}, under purchase order ${po.poNumber}:`,
      ...po.lines.map((l) => `- ${l.lineId} ${l.description}: ${l.quantity} x ${money(l.unitPriceCents)} = ${money(l.amountCents)}`),
      ``,
      `Purchase order total: ${money(po.totalCents)}.`,
      `Please confirm acceptance of the purchase order and the delivery schedule within five business days.`,
      ``,
      `Kind regards,`,
      input.buyerName,
    ].join('\n'),
  }));
  const awarded = new Set(suppliers);
  const regrets: SupplierLetter[] = input.unsuccessfulSuppliers
    .filter((s) => !awarded.has(s.supplierId))
    .sort((a, b) => a.supplierId.localeCompare(b.supplierId))
    .map((s) => ({
      supplierId: s.supplierId,
      kind: 'regret',
      subject: `Outcome of negotiation ${input.negotiationId}`,
      body: [
        `Dear ${s.supplierName},`,
        ``,
        `Thank you for your bid in negotiation ${input.negotiationId}. After evaluating all bids against the published criteria, ${input.buyerName} has decided not to award your bid on this occasion.`,
        `We value your participation and look forward to inviting you to future negotiations.`,
        ``,
        `Kind regards,`,
        input.buyerName,
      ].join('\n'),
    }));
  return { negotiationId: input.negotiationId, purchaseOrders, communications: [...awards, ...regrets] };
}
