import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { ActionState, Task } from '../../entities/index.js';
import type { NotificationHub } from '../db/notifications.js';
import type { Logger } from '../logger.js';
import type { CloudService } from '../services/clouds/cloud-service.js';
import type { TransportService } from '../services/transports/transport-service.js';
import type { VmDiskSources } from '../services/vsphere/vm-disk-sources.js';
import { schedule, settleFailure, TASK_DUE_CHANNEL, TASK_POPULATE } from './scheduling.js';
import { contextFor, StepFailure, StepWait, type EngineTimings, type StepName, type StepOutcome } from './step-context.js';
import { STEPS } from './steps/index.js';
import { StateRefused } from './task-changes.js';
import { handleTransportEvent } from './transport-events.js';

/**
 * The highest-priority due step whose task no other process holds; a copy waits while its
 * transport runs MaxSupportedTasks copies already. The row stays locked until the step commits.
 */
const CLAIM_SQL = `
  select t.id from tasks t
  where t.step is not null and t.due_at <= now() and t.action_state not in (${ActionState.Error}, ${ActionState.Stopped})
    and (t.step <> 'cycle' or (select count(*) from tasks o where o.target_transport_id = t.target_transport_id and o.step = 'await-cycle')
         < (select greatest(ts.max_supported_tasks, 1) from transport_servers ts where ts.id = t.target_transport_id))
  order by t.priority desc, t.created_at asc, t.id
  limit 1
  for update of t skip locked`;

export interface EngineDeps {
  orm: MikroORM;
  clouds: CloudService;
  transports: TransportService;
  vmDisks: VmDiskSources;
  hub: NotificationHub;
  timings: EngineTimings;
  log: Logger;
  /** steps run at once by this process */
  concurrency?: number;
}

/**
 * Drives every task through its steps. Each Ferry process runs one; they share the work through
 * row locks (SKIP LOCKED), so exactly one process runs a task's step, and a process that dies
 * mid-step leaves it to be run again: steps are idempotent towards the cloud and the transport.
 */
export class TaskEngine {
  private timer?: NodeJS.Timeout;
  private running = 0;
  private stopped = false;
  private pass?: Promise<void>;
  private again = false;
  private readonly idle = new Set<() => void>();
  private unlisten?: () => void;

  constructor(private readonly deps: EngineDeps) {}

  start(): void {
    this.deps.transports.onTransportEvent.push((event, em) => handleTransportEvent(em, event, this.deps));
    this.unlisten = this.deps.hub.on(TASK_DUE_CHANNEL, () => this.wake());
    this.timer = setInterval(() => this.wake(), this.deps.timings.tickMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unlisten?.();
    while (this.running > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /** Looks for due steps now. */
  wake(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.fill().finally(() => {
      this.pass = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Starts steps until none is due or the concurrency is reached. */
  private async fill(): Promise<void> {
    const limit = this.deps.concurrency ?? 4;
    while (!this.stopped && this.running < limit) {
      const claimed = await this.claimAndRun();
      if (!claimed) return;
    }
  }

  /** Claims one due step and runs it in the background; false when none was due. */
  private async claimAndRun(): Promise<boolean> {
    let claimedResolve!: (claimed: boolean) => void;
    const claimed = new Promise<boolean>((resolve) => (claimedResolve = resolve));
    this.running++;
    let ran = false;
    const done = this.deps.orm.em
      .fork()
      .transactional(async (em) => {
        const rows = await em.execute<{ id: string }[]>(CLAIM_SQL);
        ran = rows.length > 0;
        claimedResolve(ran);
        if (ran) await this.runStep(em, rows[0].id);
      })
      .catch((err) => {
        claimedResolve(false);
        this.deps.log.error({ err }, 'task step failed unexpectedly');
      })
      .finally(() => {
        this.running--;
        if (this.running === 0) {
          for (const resolve of this.idle) resolve();
          this.idle.clear();
        }
        // a step that ran may have made another due (or freed a transport slot): look again
        if (ran && !this.stopped) setImmediate(() => this.wake());
      });
    void done;
    return claimed;
  }

  private async runStep(em: EntityManager, id: string): Promise<void> {
    const task = await em.findOneOrFail(Task, id, { populate: [...TASK_POPULATE] });
    const step = task.step as StepName;
    let outcome: StepOutcome;
    try {
      outcome = await STEPS[step](contextFor(em, task, this.deps));
    } catch (err) {
      if (!(err instanceof StepFailure || err instanceof StepWait || err instanceof StateRefused)) throw err;
      // nothing the step changed is kept: start from the row as committed (still locked by us)
      this.deps.log.info({ task: id, step, reason: err.message, waitMs: err instanceof StepWait ? err.ms : undefined }, 'task step did not finish');
      em.clear();
      const fresh = await em.findOneOrFail(Task, id, { populate: [...TASK_POPULATE] });
      await settleFailure(em, fresh, step, err, this.deps.timings);
      return;
    }
    schedule(task, outcome);
    this.deps.log.info({ task: task.id, step, next: outcome.next }, 'task step done');
  }
}
