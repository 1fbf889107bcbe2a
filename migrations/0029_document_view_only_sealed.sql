DROP INDEX "document_requests_email_idx";--> statement-breakpoint
DROP INDEX "nda_signatures_email_idx";--> statement-breakpoint
ALTER TABLE "document_requests" ADD COLUMN "email_index" text;--> statement-breakpoint
ALTER TABLE "nda_signatures" ADD COLUMN "email_index" text;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "view_only" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "document_requests_email_index_idx" ON "document_requests" USING btree ("tenant_id","email_index");--> statement-breakpoint
CREATE INDEX "nda_signatures_email_index_idx" ON "nda_signatures" USING btree ("tenant_id","email_index");