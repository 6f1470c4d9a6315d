-- Own domains (docs/https.md): an org's domain holds routes only once the org proved control of
-- it. The API refuses a route on a pending domain with the fix (verify it first); this trigger
-- makes Postgres refuse the row too, whichever code path writes it (routes API, app creation,
-- manifest push), as routes_domain_of_own_org does for other orgs' domains.
CREATE FUNCTION "routes_on_verified_domain"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM "domains" d WHERE d."id" = NEW."domain_id" AND d."verified_at" IS NULL) THEN
    RAISE EXCEPTION 'route % is on domain % whose control is not verified yet', NEW."id", NEW."domain_id" USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "routes_on_verified_domain" BEFORE INSERT OR UPDATE OF "domain_id" ON "routes"
  FOR EACH ROW EXECUTE FUNCTION "routes_on_verified_domain"();
