from isecg_kg.cli import main

raise SystemExit(main())
