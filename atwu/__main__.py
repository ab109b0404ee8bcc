from atwu.cli import main

raise SystemExit(main())
