from datetime import date

from cogs.digest import digest_embeds
from cogs.render import DESCRIPTION_LIMIT, EMBEDS_TOTAL_LIMIT
from index.digest import Digest, DigestItem, DigestSection, build_digest


def test_long_digests_split_at_item_boundaries_within_limits(engine):
    results = engine.ask("OpenAI", k=25).results
    items = tuple(DigestItem(f"passage:{r.passage.pid}", r.passage.text, r.citation, r.excerpt) for r in results)
    digest = Digest("2025-12-20", engine.version, (DigestSection("topic", "OpenAI", items * 3),))
    embeds = digest_embeds(digest, "Daily digest · 2025-12-20")
    assert len(embeds) > 1
    for embed in embeds:
        assert len(embed.description) <= DESCRIPTION_LIMIT and len(embed) <= EMBEDS_TOTAL_LIMIT
        blocks = embed.description.split("\n\n")
        assert all(block.startswith(("**", "__**")) for block in blocks)  # every block is a whole item
    numbers = [b.split(".**")[0] for e in embeds for b in e.description.split("\n\n") if b.startswith("**")]
    assert len(numbers) == len(items) * 3
    assert embeds[0].title == "Daily digest · 2025-12-20"
    assert embeds[-1].footer.text.endswith(f"{len(embeds)}/{len(embeds)}")


def test_empty_digest_renders_one_short_embed(engine):
    digest = build_digest(engine, day=date(2025, 12, 20), topics=["nonexistent topic zzz"])
    [embed] = digest_embeds(digest, "t")
    assert "Nothing new" in embed.description
