"""The knowledge base: facts, matching settings and the dialog, loaded from knowledge/*.yaml."""

from bot.kb.loader import KnowledgeBase, bundled_knowledge_dir, load_knowledge

__all__ = ["KnowledgeBase", "bundled_knowledge_dir", "load_knowledge"]
