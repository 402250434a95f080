-- MLflow's tracking store lives beside dspo's store on the same PostgreSQL server, in its own
-- database. PostgreSQL's image runs this once, when it initialises an empty data volume;
-- on an existing volume run it by hand:
--   docker compose exec postgres psql -U dspo -d dspo -c 'CREATE DATABASE mlflow OWNER dspo'
CREATE DATABASE mlflow OWNER dspo;
