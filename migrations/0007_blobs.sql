CREATE TABLE "blobs" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"category" text NOT NULL,
	"content_type" text NOT NULL,
	"filename_sealed" text,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"stored_size" bigint NOT NULL,
	"stored_sha256" text NOT NULL,
	"key_version" integer NOT NULL,
	"object_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "blobs_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "blobs_object_key_idx" ON "blobs" USING btree ("tenant_id","object_key");--> statement-breakpoint
CREATE INDEX "blobs_key_version_idx" ON "blobs" USING btree ("tenant_id","key_version");