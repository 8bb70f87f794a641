import sys

from moviebot.cli import main

sys.exit(main())
