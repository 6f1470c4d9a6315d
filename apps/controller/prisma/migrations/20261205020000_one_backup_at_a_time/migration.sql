-- One backup at a time per service instance: a second one while another is in progress is a
-- unique violation (the API answers 409), also between controller replicas.
CREATE UNIQUE INDEX "service_backups_one_in_progress" ON "service_backups" ("service_instance_id") WHERE "state" = 'in progress';
