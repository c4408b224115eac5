import { Migration } from '@mikro-orm/migrations';

export class Migration20261129224702_transports extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "transport_event_receipts" ("event_id" text not null, "transport_id" varchar(64) not null, "type" text not null, "received_at" timestamptz not null default now(), constraint "transport_event_receipts_pkey" primary key ("event_id"));`);
    this.addSql(`create index "transport_event_receipts_received_at_index" on "transport_event_receipts" ("received_at");`);

    this.addSql(`alter table "transport_servers" add column "transport_id" varchar(64) null;`);
    this.addSql(`alter table "transport_servers" add constraint "transport_servers_transport_id_unique" unique ("transport_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "transport_event_receipts" cascade;`);

    this.addSql(`alter table "transport_servers" drop constraint "transport_servers_transport_id_unique";`);
    this.addSql(`alter table "transport_servers" drop column "transport_id";`);
  }

}
