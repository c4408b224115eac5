import { Migration } from '@mikro-orm/migrations';

export class Migration20261129191406_foundation extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "cloud_connections" ("id" uuid not null, "created_at" timestamptz not null default now(), "name" varchar(64) not null, "cloud_type" text check ("cloud_type" in ('Openstack', 'Huayun', 'CloudUltra 4', 'ArcherOS 2020')) not null, "project_name" varchar(255) null, "domain" varchar(255) not null default 'Default', "cloud_user" varchar(255) not null, "cloud_pass_sealed" text not null, "identity_protocol" varchar(8) not null default 'http', "identity_port" varchar(8) not null default '5000', "cloud_addr" varchar(255) not null, "api_mgnt_url" varchar(512) null, "account_id" varchar(255) null, "owner_id" varchar(255) null, "environment_id" varchar(255) null, "zone_id" varchar(255) null, "zone_name" varchar(255) null, "region_id" varchar(255) null, "region_name" varchar(255) null, "updated_at" timestamptz not null default now(), constraint "cloud_connections_pkey" primary key ("id"));`);
    this.addSql(`alter table "cloud_connections" add constraint "cloud_connections_name_unique" unique ("name");`);

    this.addSql(`create table "licenses" ("id" uuid not null, "credits" int not null, "expires_at" timestamptz not null, "issued_at" timestamptz not null, "activation_key" text not null, "active" boolean not null default true, "activated_at" timestamptz not null default now(), constraint "licenses_pkey" primary key ("id"));`);

    this.addSql(`create table "license_ledger" ("id" uuid not null, "license_id" uuid not null, "task_id" uuid not null, "kind" text check ("kind" in ('taken', 'returned', 'kept')) not null, "created_at" timestamptz not null default now(), constraint "license_ledger_pkey" primary key ("id"));`);
    this.addSql(`create index "license_ledger_license_id_index" on "license_ledger" ("license_id");`);
    // at most one license is active at a time
    this.addSql(`create unique index "licenses_one_active" on "licenses" ((true)) where "active";`);
    this.addSql(`alter table "license_ledger" add constraint "license_ledger_task_id_kind_unique" unique ("task_id", "kind");`);

    this.addSql(`create table "login_attempts" ("user_name" varchar(64) not null, "failures" int not null default 0, "last_failure_at" timestamptz null, "blocked_until" timestamptz null, constraint "login_attempts_pkey" primary key ("user_name"));`);

    this.addSql(`create table "server_keys" ("name" varchar(64) not null, "value" jsonb not null, "created_at" timestamptz not null default now(), constraint "server_keys_pkey" primary key ("name"));`);

    this.addSql(`create table "transport_servers" ("id" uuid not null, "created_at" timestamptz not null default now(), "name" varchar(64) not null, "serv_type" text check ("serv_type" in ('On-Premises', 'Cloud')) not null, "cloud_id" uuid null, "mgnt_addr" varchar(255) not null, "max_supported_tasks" int not null default 0, "current_tasks" int not null default 0, "storage_id" varchar(255) null, "storage_type" text check ("storage_type" in ('LOCAL', 'ARSTOR', 'FCSAN', 'IPSAN', 'XSKY')) null, "protocol_version" varchar(32) null, "pairing_secret_sealed" text null, "offline" boolean not null default false, "last_seen_at" timestamptz null, constraint "transport_servers_pkey" primary key ("id"));`);
    this.addSql(`create index "transport_servers_cloud_id_index" on "transport_servers" ("cloud_id");`);
    this.addSql(`alter table "transport_servers" add constraint "transport_servers_mgnt_addr_unique" unique ("mgnt_addr");`);

    this.addSql(`create table "users" ("id" uuid not null, "created_at" timestamptz not null default now(), "user_name" varchar(64) not null, "password_hash" varchar(255) not null, "is_first_login" boolean not null default true, "password_changed_at" timestamptz null, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_user_name_unique" unique ("user_name");`);

    this.addSql(`create table "sessions" ("id" uuid not null, "created_at" timestamptz not null default now(), "user_id" uuid not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, constraint "sessions_pkey" primary key ("id"));`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);

    this.addSql(`create table "vsphere_platforms" ("id" uuid not null, "created_at" timestamptz not null default now(), "name" varchar(64) not null, "ip" varchar(255) not null, "user_name" varchar(255) not null, "passwd_sealed" text not null, "transport_id" uuid null, "is_vcenter" boolean not null default false, "instance_uuid" varchar(64) null, "cert_thumbprint" varchar(128) null, "refreshed_at" timestamptz null, constraint "vsphere_platforms_pkey" primary key ("id"));`);
    this.addSql(`create index "vsphere_platforms_transport_id_index" on "vsphere_platforms" ("transport_id");`);

    this.addSql(`create table "vsphere_datacenters" ("id" uuid not null, "created_at" timestamptz not null default now(), "platform_id" uuid not null, "moref" varchar(128) not null, "name" varchar(255) not null, constraint "vsphere_datacenters_pkey" primary key ("id"));`);
    this.addSql(`alter table "vsphere_datacenters" add constraint "vsphere_datacenters_platform_id_moref_unique" unique ("platform_id", "moref");`);

    this.addSql(`create table "vsphere_folders" ("id" uuid not null, "created_at" timestamptz not null default now(), "platform_id" uuid not null, "moref" varchar(128) not null, "name" varchar(255) not null, "datacenter_id" uuid not null, "parent_id" uuid null, constraint "vsphere_folders_pkey" primary key ("id"));`);
    this.addSql(`create index "vsphere_folders_datacenter_id_index" on "vsphere_folders" ("datacenter_id");`);
    this.addSql(`create index "vsphere_folders_parent_id_index" on "vsphere_folders" ("parent_id");`);
    this.addSql(`alter table "vsphere_folders" add constraint "vsphere_folders_platform_id_moref_unique" unique ("platform_id", "moref");`);

    this.addSql(`create table "vsphere_clusters" ("id" uuid not null, "created_at" timestamptz not null default now(), "platform_id" uuid not null, "moref" varchar(128) not null, "name" varchar(255) not null, "datacenter_id" uuid not null, constraint "vsphere_clusters_pkey" primary key ("id"));`);
    this.addSql(`create index "vsphere_clusters_datacenter_id_index" on "vsphere_clusters" ("datacenter_id");`);
    this.addSql(`alter table "vsphere_clusters" add constraint "vsphere_clusters_platform_id_moref_unique" unique ("platform_id", "moref");`);

    this.addSql(`create table "vsphere_hosts" ("id" uuid not null, "created_at" timestamptz not null default now(), "platform_id" uuid not null, "moref" varchar(128) not null, "name" varchar(255) not null, "datacenter_id" uuid not null, "cluster_id" uuid null, constraint "vsphere_hosts_pkey" primary key ("id"));`);
    this.addSql(`create index "vsphere_hosts_datacenter_id_index" on "vsphere_hosts" ("datacenter_id");`);
    this.addSql(`create index "vsphere_hosts_cluster_id_index" on "vsphere_hosts" ("cluster_id");`);
    this.addSql(`alter table "vsphere_hosts" add constraint "vsphere_hosts_platform_id_moref_unique" unique ("platform_id", "moref");`);

    this.addSql(`create table "source_hosts" ("id" uuid not null, "created_at" timestamptz not null default now(), "name" varchar(255) not null, "agent" boolean not null, "transport_id" uuid null, "mgnt_addr" varchar(255) null, "offline" boolean not null default false, "os_type" varchar(64) null, "os_name" varchar(255) null, "cpu" int null, "sockets" int null, "memory" bigint null, "manufacturer" varchar(255) null, "total_size" bigint null, "host_type" varchar(64) null, "can_not_migrate" boolean not null default false, "cnm_reason" text null, "platform_id" uuid null, "esxi_host_id" uuid null, "folder_id" uuid null, "vm_moref" varchar(128) null, "vm_uuid" varchar(64) null, "vm_instance_uuid" varchar(64) null, "power_state" varchar(32) null, "missing" boolean not null default false, "refreshed_at" timestamptz null, constraint "source_hosts_pkey" primary key ("id"));`);
    this.addSql(`create index "source_hosts_transport_id_index" on "source_hosts" ("transport_id");`);
    this.addSql(`create index "source_hosts_mgnt_addr_index" on "source_hosts" ("mgnt_addr");`);
    this.addSql(`create index "source_hosts_esxi_host_id_index" on "source_hosts" ("esxi_host_id");`);
    this.addSql(`create index "source_hosts_folder_id_index" on "source_hosts" ("folder_id");`);
    this.addSql(`alter table "source_hosts" add constraint "source_hosts_platform_id_vm_instance_uuid_unique" unique ("platform_id", "vm_instance_uuid");`);

    this.addSql(`create table "tasks" ("id" uuid not null, "created_at" timestamptz not null default now(), "name" varchar(255) not null, "priority" int not null default 0, "source_host_id" uuid not null, "cloud_id" uuid not null, "src_transport_id" uuid null, "target_transport_id" uuid not null, "storage_id" varchar(255) null, "interval_minutes" int not null, "max_snaps_num" int not null, "start_time" timestamptz not null, "is_compressed" boolean not null default false, "qos_limit" int not null default 0, "flavor_id" varchar(255) null, "network_id" varchar(255) null, "subnet_id" varchar(255) null, "route_id" varchar(255) null, "security_group_id" varchar(255) null, "aggregate_id" varchar(255) null, "cpu" int null, "sockets" int null, "memory" int null, "bandwidth" int null, "target_server_name" varchar(255) null, "target_server_id" varchar(255) null, "action_state" smallint not null default 1000, "last_sync" smallint not null default 0, "snap_times" int not null default 0, "status" text not null default '', "snapshot_size" bigint not null default 0, "transferred_size" bigint not null default 0, "predict_done_seconds" bigint null, "event_seq" bigint not null default 0, "updated_at" timestamptz not null default now(), constraint "tasks_pkey" primary key ("id"));`);
    this.addSql(`alter table "tasks" add constraint "tasks_name_unique" unique ("name");`);
    this.addSql(`create index "tasks_source_host_id_index" on "tasks" ("source_host_id");`);
    this.addSql(`create index "tasks_cloud_id_index" on "tasks" ("cloud_id");`);
    this.addSql(`create index "tasks_src_transport_id_index" on "tasks" ("src_transport_id");`);
    this.addSql(`create index "tasks_target_transport_id_index" on "tasks" ("target_transport_id");`);
    this.addSql(`create index "tasks_action_state_index" on "tasks" ("action_state");`);

    this.addSql(`create table "task_volumes" ("id" uuid not null, "created_at" timestamptz not null default now(), "task_id" uuid not null, "volume_name" varchar(255) not null, "volume_type" varchar(255) null, "volume_size_gb" int not null, "cloud_volume_name" varchar(255) null, "cloud_volume_id" varchar(255) null, "pre_alloc" boolean not null default false, "storage_id" varchar(255) null, "device" varchar(1024) null, constraint "task_volumes_pkey" primary key ("id"));`);
    this.addSql(`create index "task_volumes_task_id_index" on "task_volumes" ("task_id");`);

    this.addSql(`create table "task_snapshots" ("id" uuid not null, "created_at" timestamptz not null default now(), "task_id" uuid not null, "cycle" int not null, "cloud_snapshot_ids" jsonb not null, "deleted_at" timestamptz null, constraint "task_snapshots_pkey" primary key ("id"));`);
    this.addSql(`alter table "task_snapshots" add constraint "task_snapshots_task_id_cycle_unique" unique ("task_id", "cycle");`);

    this.addSql(`create table "task_net_interfaces" ("id" uuid not null, "created_at" timestamptz not null default now(), "task_id" uuid not null, "network_id" varchar(255) null, "security_group_id" varchar(255) null, "mac" varchar(32) null, "subnets" jsonb not null, constraint "task_net_interfaces_pkey" primary key ("id"));`);
    this.addSql(`create index "task_net_interfaces_task_id_index" on "task_net_interfaces" ("task_id");`);

    this.addSql(`create table "task_events" ("id" bigserial primary key, "task_id" uuid not null, "seq" bigint not null, "type" varchar(64) not null, "message" text not null, "payload" jsonb null, "created_at" timestamptz not null default now());`);
    this.addSql(`alter table "task_events" add constraint "task_events_task_id_seq_unique" unique ("task_id", "seq");`);

    this.addSql(`create table "host_volumes" ("id" uuid not null, "created_at" timestamptz not null default now(), "host_id" uuid not null, "path" varchar(255) not null, "type" varchar(32) not null, "filesystem" varchar(32) null, "partition_table" varchar(8) null, "capacity" bigint not null, "use_type" text check ("use_type" in ('boot', 'root', 'data')) null, "free_space" bigint null, "free_space_not_enough" boolean not null default false, "can_not_be_migrated" boolean not null default false, "can_not_be_migrated_reason" text null, "backing_file" varchar(1024) null, "controller" varchar(64) null, constraint "host_volumes_pkey" primary key ("id"));`);
    this.addSql(`create index "host_volumes_host_id_index" on "host_volumes" ("host_id");`);

    this.addSql(`create table "host_net_interfaces" ("id" uuid not null, "created_at" timestamptz not null default now(), "host_id" uuid not null, "name" varchar(64) null, "mac" varchar(32) not null, "ips" jsonb not null, "network" varchar(255) null, constraint "host_net_interfaces_pkey" primary key ("id"));`);
    this.addSql(`create index "host_net_interfaces_host_id_index" on "host_net_interfaces" ("host_id");`);

    this.addSql(`alter table "transport_servers" add constraint "transport_servers_cloud_id_foreign" foreign key ("cloud_id") references "cloud_connections" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "vsphere_platforms" add constraint "vsphere_platforms_transport_id_foreign" foreign key ("transport_id") references "transport_servers" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "vsphere_datacenters" add constraint "vsphere_datacenters_platform_id_foreign" foreign key ("platform_id") references "vsphere_platforms" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "vsphere_folders" add constraint "vsphere_folders_platform_id_foreign" foreign key ("platform_id") references "vsphere_platforms" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "vsphere_folders" add constraint "vsphere_folders_datacenter_id_foreign" foreign key ("datacenter_id") references "vsphere_datacenters" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "vsphere_folders" add constraint "vsphere_folders_parent_id_foreign" foreign key ("parent_id") references "vsphere_folders" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "vsphere_clusters" add constraint "vsphere_clusters_platform_id_foreign" foreign key ("platform_id") references "vsphere_platforms" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "vsphere_clusters" add constraint "vsphere_clusters_datacenter_id_foreign" foreign key ("datacenter_id") references "vsphere_datacenters" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "vsphere_hosts" add constraint "vsphere_hosts_platform_id_foreign" foreign key ("platform_id") references "vsphere_platforms" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "vsphere_hosts" add constraint "vsphere_hosts_datacenter_id_foreign" foreign key ("datacenter_id") references "vsphere_datacenters" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "vsphere_hosts" add constraint "vsphere_hosts_cluster_id_foreign" foreign key ("cluster_id") references "vsphere_clusters" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "source_hosts" add constraint "source_hosts_transport_id_foreign" foreign key ("transport_id") references "transport_servers" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "source_hosts" add constraint "source_hosts_platform_id_foreign" foreign key ("platform_id") references "vsphere_platforms" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "source_hosts" add constraint "source_hosts_esxi_host_id_foreign" foreign key ("esxi_host_id") references "vsphere_hosts" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "source_hosts" add constraint "source_hosts_folder_id_foreign" foreign key ("folder_id") references "vsphere_folders" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "tasks" add constraint "tasks_source_host_id_foreign" foreign key ("source_host_id") references "source_hosts" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "tasks" add constraint "tasks_cloud_id_foreign" foreign key ("cloud_id") references "cloud_connections" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "tasks" add constraint "tasks_src_transport_id_foreign" foreign key ("src_transport_id") references "transport_servers" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "tasks" add constraint "tasks_target_transport_id_foreign" foreign key ("target_transport_id") references "transport_servers" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "task_volumes" add constraint "task_volumes_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "task_snapshots" add constraint "task_snapshots_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "task_net_interfaces" add constraint "task_net_interfaces_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "task_events" add constraint "task_events_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "host_volumes" add constraint "host_volumes_host_id_foreign" foreign key ("host_id") references "source_hosts" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "host_net_interfaces" add constraint "host_net_interfaces_host_id_foreign" foreign key ("host_id") references "source_hosts" ("id") on update cascade on delete cascade;`);
  }

}
