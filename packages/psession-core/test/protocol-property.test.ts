// Issue 8 item 1, as a property: two managers that both handle requests, joined by a channel
// that delays, duplicates and drops messages at random. Whatever happens, every handler runs at
// most once per request, every request settles, and the wire carries a small multiple of the
// attempts made — never an exchange that feeds itself.
import fc from "fast-check";
import { expect, test } from "vitest";
import {
  SessionManager,
  attach,
  createMemoryTransportPair,
  type Message,
  type Session,
  type Transport,
} from "psession";

interface Plan {
  roles: boolean;
  delays: number[];
  copies: number[];
  drops: boolean[];
  requests: { from: "A" | "B"; work: number; timeout: number; retries: number }[];
}

const plan: fc.Arbitrary<Plan> = fc.record({
  roles: fc.boolean(),
  delays: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 16 }),
  copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 16 }),
  drops: fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
  requests: fc.array(
    fc.record({
      from: fc.constantFrom("A" as const, "B" as const),
      work: fc.integer({ min: 0, max: 30 }),
      timeout: fc.integer({ min: 5, max: 40 }),
      retries: fc.integer({ min: 0, max: 3 }),
    }),
    { minLength: 1, maxLength: 12 },
  ),
});

/** A memory end behind a channel that follows the plan's delays, duplicates and drops, in turn. */
function chaotic(
  end: Transport<Message>,
  p: Plan,
  counter: { sent: number; timers: Set<ReturnType<typeof setTimeout>> },
) {
  let n = 0;
  const transport: Transport<Message> = {
    role: p.roles ? end.role : undefined,
    duplicates: true,
    send(message) {
      const i = n++;
      if (p.drops[i % p.drops.length] && i % 3 === 0) return; // lose about one in six
      const copies = p.copies[i % p.copies.length]!;
      for (let c = 0; c < copies; c++) {
        counter.sent++;
        const t = setTimeout(
          () => {
            counter.timers.delete(t);
            end.send(message);
          },
          p.delays[(i + c) % p.delays.length]!,
        );
        counter.timers.add(t);
      }
    },
    onMessage: (l) => end.onMessage(l),
    onClose: (l) => end.onClose!(l),
  };
  return transport;
}

/** Two managers joined by a chaotic channel that follows `p`; `duplicates`: what the channel declares. */
function chaoticPair(p: Plan, duplicates: boolean) {
  const [ta, tb] = createMemoryTransportPair<Message>();
  const counter = { sent: 0, timers: new Set<ReturnType<typeof setTimeout>>() };
  const A = new SessionManager();
  const B = new SessionManager();
  A.on("error", () => {});
  B.on("error", () => {});
  const options = p.roles ? {} : { role: undefined };
  attach(A, { ...chaotic(ta, p, counter), duplicates }, options);
  attach(B, { ...chaotic(tb, p, counter), duplicates }, options);
  return { A, B, counter };
}

test("random delays, duplicates and drops: each handler runs at most once per request, all settle, the wire stays bounded", async () => {
  await fc.assert(
    fc.asyncProperty(plan, async (p) => {
      const { A, B, counter } = chaoticPair(p, true);
      const runs = new Map<string, number>();
      const handler = async (m: Message) => {
        runs.set(m.id, (runs.get(m.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, m.work));
        return { id: m.id };
      };
      A.handle(handler);
      B.handle(handler);
      let attempts = 0;
      const results = await Promise.allSettled(
        p.requests.map((r, i) => {
          attempts += 1 + r.retries;
          const from = r.from === "A" ? A : B;
          return from.request({ id: `${r.from}${i}`, work: r.work }, { timeout: r.timeout, retryCount: r.retries });
        }),
      );
      // Let late copies land: nothing may start after the requests settled.
      await new Promise((r) => setTimeout(r, 120));
      const sentAfterSettling = counter.sent;
      await new Promise((r) => setTimeout(r, 60));
      for (const t of counter.timers) clearTimeout(t);
      A.clear();
      B.clear();

      expect(results).toHaveLength(p.requests.length); // all settled (allSettled would hang otherwise)
      for (const [id, count] of runs) expect(count, `handler runs for ${id}`).toBe(1);
      // Each attempt: the request, at most one answer and one cancel notice, each sent up to 3 times.
      expect(counter.sent).toBeLessThanOrEqual(attempts * 3 * 3 + 3 * p.requests.length);
      expect(counter.sent).toBe(sentAfterSettling); // quiet once everything has settled
      for (const r of results) {
        if (r.status === "fulfilled") expect(r.value).toMatchObject({ id: expect.any(String) });
        else expect((r.reason as Error).name).toMatch(/^Session/);
      }
    }),
    { numRuns: 40 },
  );
}, 60_000);

test("dialogues over a channel that delays, reorders and drops (no duplicates of its own): every turn runs once", async () => {
  // Both sides retry: the opener its turns, the handler its question. A re-sent question makes
  // the opener repeat its latest turn, so repeats arrive even though the channel never copies a
  // message; none of them may open a session or run a turn again.
  // Role-less, both ends may pick the same id at once (docs/protocol.md says it cannot be
  // prevented there): only A opens dialogues then.
  const dialoguePlan = plan.map((p) => ({
    ...p,
    copies: [1],
    requests: p.roles ? p.requests : p.requests.map((r) => ({ ...r, from: "A" as const })),
  }));
  await fc.assert(
    fc.asyncProperty(dialoguePlan, async (p) => {
      const { A, B, counter } = chaoticPair(p, false);
      const opened = new Map<string, number>();
      const answered = new Map<string, number>();
      const strays: Message[] = [];
      const handler = async (m: Message, session: Session) => {
        if (m.step !== "open") {
          strays.push(m); // a later turn that opened a session of its own
          return { stray: true };
        }
        opened.set(m.id, (opened.get(m.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, m.work));
        const answer = await session.send({ ask: m.id }, { timeout: m.timeout, retryCount: m.retries });
        answered.set(m.id, (answered.get(m.id) ?? 0) + 1);
        return { done: answer.id };
      };
      A.handle(handler);
      B.handle(handler);
      const results = await Promise.allSettled(
        p.requests.map(async (r, i) => {
          const from = r.from === "A" ? A : B;
          const id = `${r.from}${i}`;
          const session = from.createSession(from.ports.values().next().value!.name);
          try {
            const options = { timeout: r.timeout, retryCount: r.retries };
            await session.send({ id, step: "open", work: r.work, timeout: r.timeout, retries: r.retries }, options);
            return await session.send({ id, step: "answer" }, options);
          } finally {
            session.end();
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 150));
      const sentAfterSettling = counter.sent;
      await new Promise((r) => setTimeout(r, 60));
      for (const t of counter.timers) clearTimeout(t);
      A.clear();
      B.clear();

      expect(strays).toEqual([]);
      for (const [id, count] of opened) expect(count, `sessions opened for ${id}`).toBe(1);
      for (const [id, count] of answered) expect(count, `answers taken for ${id}`).toBe(1);
      expect(counter.sent).toBe(sentAfterSettling);
      for (const r of results) {
        if (r.status === "fulfilled") expect(r.value).toMatchObject({ done: expect.any(String) });
        else expect((r.reason as Error).name).toMatch(/^Session/);
      }
    }),
    { numRuns: 60 },
  );
}, 90_000);
