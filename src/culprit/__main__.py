from culprit.cli import main

raise SystemExit(main())
