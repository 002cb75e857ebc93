"""Tomcat serving a directory that git-sync swaps: a ``Context`` descriptor for the root web app.

Two places in Tomcat resolve a symlink once, at start, and one caches:

- ``ContextConfig.fixDocBase`` replaces the Context's ``docBase`` with its canonical path
  (``String docBaseCanonical = docBaseAbsoluteFile.getCanonicalPath(); ...
  context.setDocBase(docBase)``): a ``docBase`` through git-sync's link is pinned to the
  first worktree, which git-sync deletes at the next sync.
- ``AbstractFileResourceSet.initInternal`` stores ``canonicalBase`` once, and ``file()``
  refuses any file whose canonical path does not start with it unless linking is allowed
  (``if (getRoot().getAllowLinking()) { return file; }`` comes first): without
  ``allowLinking`` every file of a new sync is a 404.
- ``CachedResource.validateResource`` serves a cached file for ``cacheTtl`` ms (default 5000)
  before it compares its last-modified time and length with the file's again.

So the content is mounted as a ``PreResources`` ``DirResourceSet`` whose base is the path through
the link (kept as given: ``fileBase = new File(getBase(), getInternalPath())``), with
``allowLinking="true"``, and the cache keeps static files for ``cache_ttl_ms``: a push is served
at most that long after git-sync swaps the link.
"""

from __future__ import annotations

from ._checks import int_range
from ._web import served_path

_WHERE = "tomcat_context_config"
# The descriptor is XML ('<', '&' and quotes are syntax) read by Tomcat's Digester, which also
# replaces '${name}' in every attribute value with a system property
# (java/org/apache/tomcat/util/digester/Digester.java, updateAttributes). served_path keeps all
# of them out, so the base attribute is one literal path.
#: Tomcat's own cacheTtl default (webresources/StandardRoot: ``cacheTtl = 5000``) is the
#: bound of a push's delay; one second keeps hot files in memory and shows a push within 1 s.
DEFAULT_CACHE_TTL_MS = 1000


def tomcat_context_config(root: str, *, cache_ttl_ms: int = DEFAULT_CACHE_TTL_MS) -> str:
    """Tomcat's ``conf/Catalina/localhost/ROOT.xml``: the root web app serves the directory ``root``.

    Mount it from a ConfigMap at ``/usr/local/tomcat/conf/Catalina/localhost`` of the official
    ``tomcat:10.1`` image, with an empty directory (an emptyDir) at
    ``/usr/local/tomcat/webapps/ROOT`` (the web app's own docBase, which stays empty), and pass
    ``SidecarGitSync.content_path`` as ``root``. Tomcat then serves each new sync within
    ``cache_ttl_ms`` of git-sync's link swap, with no restart or redeploy.

    The traps it avoids: a ``docBase`` through the link is canonicalized at start and stays on
    the first worktree (404s once git-sync deletes it); a resource set without
    ``allowLinking`` refuses every file of a later sync (404); Tomcat's cache serves a file
    for ``cacheTtl`` (5 s by default) after it changed. Here the synced directory is a
    ``PreResources`` set on ``/`` with ``allowLinking="true"``, read-only, and the cache's
    time to live is ``cache_ttl_ms``.

    Args:
        root: the directory to serve (``SidecarGitSync.content_path``).
        cache_ttl_ms: how long Tomcat may serve a cached file before it checks the file
            again: the longest a push stays invisible. 0 turns the cache off. Default 1000.

    Raises:
        PropsError: a ``root`` that is not an absolute, normalised path of letters, digits and
            ``._~@%+=:,/-`` (anything else could end the attribute and add elements), or a
            ``cache_ttl_ms`` outside 0-3600000.
    """
    served_path(_WHERE, "root", root, "Tomcat would read other characters as XML or ${...} syntax")
    ttl = int_range(_WHERE, "cache_ttl_ms", cache_ttl_ms, 0, 3_600_000, "use milliseconds from 0 to 3600000")
    cache = f'cachingAllowed="true" cacheTtl="{ttl}"' if ttl else 'cachingAllowed="false"'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- Rendered by constructs_lib.tomcat_context_config: the root web app serves one directory.\n"
        "     allowLinking: the directory is reached through git-sync's link, swapped on every sync. -->\n"
        "<Context>\n"
        f'  <Resources allowLinking="true" {cache}>\n'
        '    <PreResources className="org.apache.catalina.webresources.DirResourceSet"\n'
        f'                  base="{root}" webAppMount="/" readOnly="true" />\n'
        "  </Resources>\n"
        "</Context>\n"
    )
