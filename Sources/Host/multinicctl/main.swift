import MultiNICCLI

MultinicCtl.main()
