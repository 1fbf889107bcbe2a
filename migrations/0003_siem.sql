CREATE TABLE "siem_destinations" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"host" text,
	"port" integer,
	"tls" boolean DEFAULT false NOT NULL,
	"ca_pem" text,
	"servername" text,
	"url" text,
	"secret" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"cursor" bigint DEFAULT 0 NOT NULL,
	"last_success_at" timestamp with time zone,
	"last_error_at" timestamp with time zone,
	"last_error" text,
	"failures" integer DEFAULT 0 NOT NULL,
	"lease_owner" uuid,
	"lease_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "siem_destinations_tenant_id_id_pk" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "siem_destinations_target" CHECK (("siem_destinations"."kind" = 'syslog' and "siem_destinations"."host" is not null and "siem_destinations"."port" between 1 and 65535)
        or ("siem_destinations"."kind" = 'webhook' and "siem_destinations"."url" is not null and "siem_destinations"."secret" is not null))
);
--> statement-breakpoint
ALTER TABLE "siem_destinations" ADD CONSTRAINT "siem_destinations_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;