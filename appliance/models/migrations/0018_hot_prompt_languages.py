"""Hot prompts by language (B10): a hot prompt is switched on for the callers of one language, or (language
empty) for every caller, as before. Frozen copy."""
import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("hot_prompt", "language", peewee.CharField(max_length=8, default="")),
        migrator.drop_index("hot_prompt", "hotprompt_tenant_id_name"),
        migrator.add_index("hot_prompt", ("tenant_id", "name", "language"), True),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("hot_prompt", "hot_prompt_tenant_id_name_language"),
        migrator.drop_column("hot_prompt", "language"),
        migrator.add_index("hot_prompt", ("tenant_id", "name"), True),
    )
