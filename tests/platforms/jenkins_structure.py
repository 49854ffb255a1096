"""The Jenkinsfile reader lives in the package (the Jenkins parity reader uses it at run time);
the tests keep importing it from here."""
# pylint: disable=wildcard-import,unused-wildcard-import
from pipegen.platforms.jenkins.structure import *  # noqa: F401,F403
