CREATE TABLE "grant_requests" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"role" text NOT NULL,
	"requested_by_id" uuid,
	"requested_by_label" text NOT NULL,
	"approver_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"decided_by_id" uuid,
	"decided_by_label" text,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "grant_requests_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "sod_default_rule_states" (
	"tenant_id" uuid NOT NULL,
	"rule_key" text NOT NULL,
	"enabled" boolean NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sod_default_rule_states_tenant_id_rule_key_pk" PRIMARY KEY("tenant_id","rule_key")
);
--> statement-breakpoint
CREATE TABLE "sod_rules" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"side_a_roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"side_a_permissions" text[] DEFAULT '{}'::text[] NOT NULL,
	"side_b_roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"side_b_permissions" text[] DEFAULT '{}'::text[] NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sod_rules_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "grant_requests" ADD CONSTRAINT "grant_requests_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grant_requests" ADD CONSTRAINT "grant_requests_tenant_id_user_id_users_tenant_id_id_fk" FOREIGN KEY ("tenant_id","user_id") REFERENCES "public"."users"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sod_default_rule_states" ADD CONSTRAINT "sod_default_rule_states_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sod_rules" ADD CONSTRAINT "sod_rules_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "grant_requests_status_idx" ON "grant_requests" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "grant_requests_pending_idx" ON "grant_requests" USING btree ("tenant_id","user_id","role") WHERE "grant_requests"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "sod_rules_name_idx" ON "sod_rules" USING btree ("tenant_id",lower("name"));