-- Application security groups (issue 12, egress policy): egress rules that platform admins bind
-- to spaces for running and/or staging containers, or enable platform-wide. A container reaches
-- only what the groups of its space allow (and never the platform's own hosts: see the cell).

CREATE TABLE "security_groups" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "rules" JSONB NOT NULL DEFAULT '[]',
    "running_default" BOOLEAN NOT NULL DEFAULT false,
    "staging_default" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "security_groups_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "security_groups_name_key" ON "security_groups"("name");

CREATE TABLE "security_group_bindings" (
    "security_group_id" UUID NOT NULL,
    "space_id" UUID NOT NULL,
    "lifecycle" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "security_group_bindings_pkey" PRIMARY KEY ("security_group_id", "space_id", "lifecycle"),
    CONSTRAINT "security_group_bindings_lifecycle_check" CHECK ("lifecycle" IN ('running', 'staging')),
    CONSTRAINT "security_group_bindings_security_group_id_fkey" FOREIGN KEY ("security_group_id") REFERENCES "security_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "security_group_bindings_space_id_fkey" FOREIGN KEY ("space_id") REFERENCES "spaces"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "security_group_bindings_space_id_lifecycle_idx" ON "security_group_bindings"("space_id", "lifecycle");

-- The platform defaults, as Cloud Foundry ships them: public networks (every IPv4 address outside
-- 10/8, 172.16/12, 192.168/16 and link-local 169.254/16) and DNS, for running and staging. The
-- platform's own hosts stay closed whatever a group says (the cells' CELL_PLATFORM_NETWORKS and
-- the host of every cell itself).
INSERT INTO "security_groups" ("id", "name", "rules", "running_default", "staging_default") VALUES
  ('00000000-0000-4000-8000-00000000a5a1', 'public_networks', '[
    {"protocol": "all", "destination": "0.0.0.0-9.255.255.255"},
    {"protocol": "all", "destination": "11.0.0.0-169.253.255.255"},
    {"protocol": "all", "destination": "169.255.0.0-172.15.255.255"},
    {"protocol": "all", "destination": "172.32.0.0-192.167.255.255"},
    {"protocol": "all", "destination": "192.169.0.0-255.255.255.255"}
  ]', true, true),
  ('00000000-0000-4000-8000-00000000a5a2', 'dns', '[
    {"protocol": "tcp", "destination": "0.0.0.0/0", "ports": "53"},
    {"protocol": "udp", "destination": "0.0.0.0/0", "ports": "53"}
  ]', true, true);
