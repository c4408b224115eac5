import { Migration } from '@mikro-orm/migrations';

export class Migration20261130002325_tasks_engine extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "task_progress_samples" ("id" bigserial primary key, "task_id" uuid not null, "at" timestamptz not null, "moved_bytes" bigint not null);`);
    this.addSql(`create index "task_progress_samples_task_id_at_index" on "task_progress_samples" ("task_id", "at");`);

    this.addSql(`alter table "task_progress_samples" add constraint "task_progress_samples_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "transport_servers" add column "cloud_server_id" varchar(255) null;`);

    this.addSql(`alter table "tasks" add column "step" varchar(32) null, add column "due_at" timestamptz null, add column "failed_step" varchar(32) null, add column "failed_state" smallint null, add column "attempts" int not null default 0, add column "cycle_id" varchar(80) null, add column "conversion_id" varchar(80) null, add column "progress_disks" jsonb null, add column "moved_bytes" bigint not null default 0, add column "progress_at" timestamptz null;`);
    this.addSql(`create index "tasks_due_at_index" on "tasks" ("due_at");`);

    this.addSql(`alter table "task_volumes" add column "boot" boolean not null default false, add column "size_bytes" bigint not null default 0, add column "position" int not null default 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "task_progress_samples" cascade;`);

    this.addSql(`alter table "task_volumes" drop column "boot", drop column "size_bytes", drop column "position";`);

    this.addSql(`drop index "tasks_due_at_index";`);
    this.addSql(`alter table "tasks" drop column "step", drop column "due_at", drop column "failed_step", drop column "failed_state", drop column "attempts", drop column "cycle_id", drop column "conversion_id", drop column "progress_disks", drop column "moved_bytes", drop column "progress_at";`);

    this.addSql(`alter table "transport_servers" drop column "cloud_server_id";`);
  }

}
